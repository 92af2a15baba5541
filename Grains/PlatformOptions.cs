namespace OrleansLlm.Grains;

/// <summary>The "OrleansLlm" configuration section: models, this silo's engines, routing.</summary>
public sealed class PlatformOptions
{
    public const string Section = "OrleansLlm";

    /// <summary>Served models by name: a Hugging Face folder each. Every silo that hosts sessions needs the tokenizer files.</summary>
    public Dictionary<string, ModelOptions> Models { get; set; } = [];

    /// <summary>The engines this silo owns (one per device).</summary>
    public List<EngineOptions> Engines { get; set; } = [];

    public RoutingPolicy Routing { get; set; } = RoutingPolicy.KvAware;

    /// <summary>Score of one cached prompt block against one request queued on the engine (see EngineRouter).</summary>
    public double LoadPenaltyBlocks { get; set; } = 8;

    /// <summary>Extra score, in blocks, of a session's previous engine.</summary>
    public double AffinityBonusBlocks { get; set; } = 2;
}

public sealed class ModelOptions
{
    public string Path { get; set; } = "";
}

public sealed class EngineOptions
{
    /// <summary>The device this engine is pinned to ("cpu0", later "cuda0").</summary>
    public string Device { get; set; } = "cpu0";

    public string Model { get; set; } = "";

    /// <summary>Kernel threads; 0 = every core.</summary>
    public int Threads { get; set; }

    public long KvCacheMiB { get; set; } = 512;

    /// <summary>Quantize the model's matrices at load: "q8_0" or "q4_0" (docs/QUANTIZATION.md); empty keeps them as stored.</summary>
    public string Weights { get; set; } = "";

    /// <summary>KV cache element type: "bf16" or "int8" (half the bytes, about twice the tokens per
    /// <see cref="KvCacheMiB"/>; docs/QUANTIZATION.md); empty keeps the model's (BF16).</summary>
    public string KvCacheDtype { get; set; } = "";

    public int MaxBatchedTokens { get; set; } = 512;

    public int MaxRunningRequests { get; set; } = 32;

    /// <summary>Idle time after which the engine frees its model and KV memory and deactivates (serverless); 0 = never.</summary>
    public double IdleTimeoutSeconds { get; set; } = 600;
}
