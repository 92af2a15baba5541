namespace OrleansLlm.Native;

/// <summary>Settings of a <see cref="NativeEngine"/> (orleansllm_engine_params).</summary>
public sealed record EngineOptions
{
    /// <summary>Tokens per KV block; also the granularity of prefix caching.</summary>
    public int BlockSizeTokens { get; init; } = 16;

    /// <summary>K/V memory budget; decides the number of blocks.</summary>
    public long KvCacheBytes { get; init; } = 1L << 30;

    /// <summary>Tokens computed per step, all requests together (long prompts are chunked).</summary>
    public int MaxBatchedTokens { get; init; } = 512;

    public int MaxRunningRequests { get; init; } = 32;

    /// <summary>Prompt + output tokens per request; 0 = the model's limit.</summary>
    public int MaxModelLength { get; init; }

    /// <summary>CPU threads; 0 = the model's thread pool.</summary>
    public int ThreadCount { get; init; }

    public bool EnablePrefixCaching { get; init; } = true;
}
