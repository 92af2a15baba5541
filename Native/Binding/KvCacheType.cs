namespace OrleansLlm.Native;

/// <summary>Element type of a KV cache (orleansllm.h kv_cache_dtype; docs/QUANTIZATION.md).</summary>
public enum KvCacheType
{
    /// <summary>The model's: BF16 for BF16 and quantized weights, float32 for F32 and F16 ones.</summary>
    ModelDefault = 0,

    /// <summary>BF16, two bytes per value.</summary>
    Bf16 = 2,

    /// <summary>int8 with a float32 scale per token and KV head: head_dim + 4 bytes per row instead of 2 × head_dim.</summary>
    Int8 = 9,
}

/// <summary>Names of <see cref="KvCacheType"/> as the CLI and the configuration spell them.</summary>
public static class KvCacheTypes
{
    /// <summary>Parses "bf16" / "int8" (any case); null for anything else.</summary>
    public static KvCacheType? Parse(string name) => name.ToLowerInvariant() switch
    {
        "bf16" => KvCacheType.Bf16,
        "int8" => KvCacheType.Int8,
        _ => null,
    };

    /// <summary>"bf16", "int8", or "default" (the model's).</summary>
    public static string Name(KvCacheType type) => type switch
    {
        KvCacheType.Bf16 => "bf16",
        KvCacheType.Int8 => "int8",
        _ => "default",
    };
}
