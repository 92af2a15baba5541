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

    /// <summary>Where the forward pass runs: the CPU, or a CUDA device (needs liborleansllm-cuda.so
    /// beside liborleansllm.so; without it or a device, creating the engine fails with a reason).</summary>
    public EngineBackend Backend { get; init; } = (EngineBackend)Defaults.Backend;

    /// <summary>The CUDA device's index (<see cref="EngineBackend.Cuda"/> only).</summary>
    public int DeviceIndex { get; init; } = Defaults.DeviceIndex;

    /// <summary>Share of the CUDA device's memory for weights, workspace and K/V blocks, in (0, 1];
    /// <see cref="KvCacheBytes"/> caps the K/V blocks too.</summary>
    public float GpuMemoryFraction { get; init; } = Defaults.GpuMemoryFraction;

    /// <summary>Element type of the KV cache: the model's (BF16 for BF16 and quantized weights), BF16,
    /// or INT8 (half the bytes, about twice the tokens per <see cref="KvCacheBytes"/>; CPU backend only).</summary>
    public KvCacheType KvCacheType { get; init; } = (KvCacheType)Defaults.KvCacheDtype;
}

/// <summary>orleansllm_engine_params.backend.</summary>
public enum EngineBackend
{
    Cpu = 0,
    Cuda = 1,
}
