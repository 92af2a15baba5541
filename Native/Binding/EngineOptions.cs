namespace OrleansLlm.Native;

/// <summary>Settings of a <see cref="NativeEngine"/> (orleansllm_engine_params). Every default is
/// the native library's (orleansllm_engine_default_params), so the two cannot drift apart.</summary>
public sealed record EngineOptions
{
    private static readonly EngineParams Defaults = NativeMethods.EngineDefaultParams();

    /// <summary>Tokens per KV block; also the granularity of prefix caching.</summary>
    public int BlockSizeTokens { get; init; } = Defaults.BlockSizeTokens;

    /// <summary>K/V memory budget; decides the number of blocks.</summary>
    public long KvCacheBytes { get; init; } = Defaults.KvCacheBytes;

    /// <summary>Tokens computed per step, all requests together (long prompts are chunked).</summary>
    public int MaxBatchedTokens { get; init; } = Defaults.MaxBatchedTokens;

    public int MaxRunningRequests { get; init; } = Defaults.MaxRunningRequests;

    /// <summary>Prompt + output tokens per request; 0 = the model's limit.</summary>
    public int MaxModelLength { get; init; } = Defaults.MaxModelLen;

    /// <summary>CPU threads; 0 = the model's thread pool.</summary>
    public int ThreadCount { get; init; } = Defaults.NThreads;

    public bool EnablePrefixCaching { get; init; } = Defaults.EnablePrefixCaching != 0;
}
