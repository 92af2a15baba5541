using System.Runtime.InteropServices;

namespace OrleansLlm.Native;

/// <summary>The shape and sizes of a loaded model.</summary>
public sealed record ModelDescription(
    int VocabSize,
    int HiddenSize,
    int LayerCount,
    int HeadCount,
    int KvHeadCount,
    int HeadDim,
    int MaxPositionEmbeddings,
    int BosTokenId,
    IReadOnlyList<int> EosTokenIds,
    string WeightDtype,
    long WeightBytes,
    long KvBytesPerToken);

/// <summary>A Hugging Face model directory loaded by the native engine (weights memory-mapped).</summary>
public sealed class NativeModel : IDisposable
{
    private readonly SafeModelHandle _handle;
    // The handle stays open while a context or engine holds a reference on it, so its IsClosed
    // does not say whether this object was disposed.
    private volatile bool _disposed;

    private NativeModel(SafeModelHandle handle, ModelDescription description)
    {
        _handle = handle;
        Description = description;
    }

    public ModelDescription Description { get; }

    /// <summary>The model handle, for building a context or an engine over it; throws once disposed.</summary>
    internal SafeModelHandle Handle
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _handle;
        }
    }

    /// <summary>The SIMD level the CPU kernels use on this machine.</summary>
    public static string CpuFeatures => Marshal.PtrToStringUTF8(NativeMethods.CpuFeatures()) ?? "";

    /// <summary>Loads <paramref name="modelDirectory"/>; throws <see cref="NativeException"/> naming the file or tensor at fault.</summary>
    /// <param name="modelDirectory">A Hugging Face model folder (config.json and safetensors).</param>
    /// <param name="threadCount">Kernel threads; 0 uses every core.</param>
    /// <param name="useMmap">Leave the weights in a memory map of the files (shared, nothing copied)
    /// instead of reading them into huge-page memory (the default: faster decode).</param>
    /// <param name="weights">Quantize the matrices at load (docs/QUANTIZATION.md), or keep them as stored.</param>
    /// <param name="kvCache">The KV cache type of the contexts and engines that name none
    /// (<see cref="ModelDescription.KvBytesPerToken"/> follows it).</param>
    public static NativeModel Load(string modelDirectory, int threadCount = 0, bool useMmap = false,
        WeightQuantization weights = WeightQuantization.AsStored, KvCacheType kvCache = KvCacheType.ModelDefault)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelDirectory);
        ArgumentOutOfRangeException.ThrowIfNegative(threadCount);
        var parameters = NativeMethods.ModelDefaultParams();
        parameters.NThreads = threadCount;
        parameters.UseMmap = useMmap ? 1 : 0;
        parameters.WeightType = (int)weights;
        parameters.KvCacheDtype = (int)kvCache;
        NativeMethods.Check(NativeMethods.ModelLoad(modelDirectory, parameters, out var handle));
        try
        {
            NativeMethods.Check(NativeMethods.ModelGetInfo(handle, out var info));
            return new NativeModel(handle, Describe(info));
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Creates a single-sequence context with room for <paramref name="contextTokens"/> tokens (0: the model's maximum, capped at 8192),
    /// its KV cache of <paramref name="kvCache"/>.</summary>
    public NativeContext CreateContext(int contextTokens = 0, KvCacheType kvCache = KvCacheType.ModelDefault)
    {
        var parameters = NativeMethods.ContextDefaultParams();
        parameters.NCtx = contextTokens;
        parameters.KvCacheDtype = (int)kvCache;
        return new NativeContext(this, SafeContextHandle.Create(Handle, parameters));
    }

    public void Dispose()
    {
        _disposed = true;
        _handle.Dispose();
    }

    private static ModelDescription Describe(in ModelInfo info)
    {
        var eos = new int[info.NEosTokenIds];
        for (var i = 0; i < eos.Length; i++)
        {
            eos[i] = info.EosTokenIds[i];
        }
        var dtype = info.WeightDtype switch { 0 => "f32", 1 => "f16", 2 => "bf16", 3 => "q8_0", 4 => "q4_0", 5 => "q5_0", 6 => "q5_1", 7 => "q4_k", 8 => "q6_k", _ => "unknown" };
        return new ModelDescription(info.VocabSize, info.HiddenSize, info.NLayers, info.NHeads, info.NKvHeads, info.HeadDim,
            info.MaxPositionEmbeddings, info.BosTokenId, eos, dtype, info.WeightBytes, info.KvBytesPerToken);
    }
}
