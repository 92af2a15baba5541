namespace OrleansLlm.Grains;

/// <summary>How a request picks its tokens; mirrors the native sampling parameters.</summary>
[GenerateSerializer, Immutable, Alias("OrleansLlm.SamplingSettings")]
public sealed record SamplingSettings
{
    [Id(0)] public float Temperature { get; init; } = 1.0f;
    [Id(1)] public float TopP { get; init; } = 1.0f;
    [Id(2)] public int TopK { get; init; }
    [Id(3)] public float MinP { get; init; }
    [Id(4)] public float PresencePenalty { get; init; }
    [Id(5)] public float FrequencyPenalty { get; init; }
    [Id(6)] public float RepetitionPenalty { get; init; } = 1.0f;
    /// <summary>Tokens to generate at most; 0 = up to the model's context limit.</summary>
    [Id(7)] public int MaxTokens { get; init; } = 16;
    /// <summary>Same seed, same tokens, whatever else is batched; null = random.</summary>
    [Id(8)] public long? Seed { get; init; }
    [Id(9)] public bool Logprobs { get; init; }
    [Id(10)] public int TopLogprobs { get; init; }
    [Id(11)] public bool IgnoreEos { get; init; }
}

/// <summary>One generation on an engine: the prompt is already tokenized and salted by the caller.</summary>
[GenerateSerializer, Immutable, Alias("OrleansLlm.EngineRequest")]
public sealed record EngineRequest(
    [property: Id(0)] int[] PromptTokenIds,
    [property: Id(1)] SamplingSettings Sampling,
    [property: Id(2)] string Tenant);

[GenerateSerializer, Immutable, Alias("OrleansLlm.TokenAlternative")]
public readonly record struct TokenAlternative([property: Id(0)] int TokenId, [property: Id(1)] float Logprob);

/// <summary>One generated token; <see cref="FinishReason"/> ("stop", "length") is set on the last.</summary>
[GenerateSerializer, Immutable, Alias("OrleansLlm.EngineToken")]
public sealed record EngineToken(
    [property: Id(0)] int TokenId,
    [property: Id(1)] float? Logprob,
    [property: Id(2)] TokenAlternative[] TopLogprobs,
    [property: Id(3)] string? FinishReason,
    [property: Id(4)] int PromptTokens,
    [property: Id(5)] int CachedPromptTokens);

public enum EngineState
{
    Unloaded,
    Loading,
    Ready,
    Failed,
}

/// <summary>An engine's state and load, as published on the engine-status stream.</summary>
[GenerateSerializer, Immutable, Alias("OrleansLlm.EngineStatus")]
public sealed record EngineStatus(
    [property: Id(0)] string EngineId,
    [property: Id(1)] string Silo,
    [property: Id(2)] string Device,
    [property: Id(3)] string Model,
    [property: Id(4)] EngineState State,
    [property: Id(5)] int Running,
    [property: Id(6)] int Waiting,
    [property: Id(7)] double KvUsage,
    [property: Id(8)] int BlockSizeTokens,
    [property: Id(9)] int MaxModelLength,
    [property: Id(10)] DateTime UpdatedUtc);

/// <summary>The engine key: "{silo name}/{device}" (for example "silo-0/cpu0").</summary>
public static class EngineId
{
    public static string Create(string siloName, string device) => $"{siloName}/{device}";

    public static (string Silo, string Device) Parse(string engineId)
    {
        var slash = engineId.LastIndexOf('/');
        if (slash <= 0 || slash == engineId.Length - 1)
        {
            throw new ArgumentException($"engine id '{engineId}' is not of the form silo/device", nameof(engineId));
        }
        return (engineId[..slash], engineId[(slash + 1)..]);
    }
}
