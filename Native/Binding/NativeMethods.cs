using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace OrleansLlm.Native;

/// <summary>P/Invoke declarations for the model and context sections of orleansllm.h.</summary>
internal static partial class NativeMethods
{
    internal const string LibraryName = "orleansllm";

    [LibraryImport(LibraryName, EntryPoint = "orleansllm_last_error")]
    internal static partial nint LastError();

    [LibraryImport(LibraryName, EntryPoint = "orleansllm_status_name")]
    internal static partial nint StatusName(int status);

    [LibraryImport(LibraryName, EntryPoint = "orleansllm_cpu_features")]
    internal static partial nint CpuFeatures();

    [LibraryImport(LibraryName, EntryPoint = "orleansllm_read_bandwidth_measure")]
    internal static partial int ReadBandwidthMeasure(int nThreads, long bufferBytes, int nPasses, out ReadBandwidthNative result);

    [LibraryImport(LibraryName, EntryPoint = "orleansllm_model_default_params")]
    internal static partial ModelParams ModelDefaultParams();

    [LibraryImport(LibraryName, EntryPoint = "orleansllm_model_load", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int ModelLoad(string modelDir, ModelParams parameters, out SafeModelHandle model);

    [LibraryImport(LibraryName, EntryPoint = "orleansllm_model_free")]
    internal static partial void ModelFree(nint model);

    [LibraryImport(LibraryName, EntryPoint = "orleansllm_model_get_info")]
    internal static partial int ModelGetInfo(SafeModelHandle model, out ModelInfo info);

    [LibraryImport(LibraryName, EntryPoint = "orleansllm_quantize")]
    internal static unsafe partial int Quantize(int type, float* x, long rows, long cols, byte* output, long outputBytes);

    [LibraryImport(LibraryName, EntryPoint = "orleansllm_dequantize")]
    internal static unsafe partial int Dequantize(int type, byte* blocks, long rows, long cols, float* output);

    [LibraryImport(LibraryName, EntryPoint = "orleansllm_q4_k_m_tensor_type", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Q4KMTensorType(string ggufName, long cols, int layers, int tiedEmbeddings);

    [LibraryImport(LibraryName, EntryPoint = "orleansllm_quantized_bytes")]
    internal static partial long QuantizedBytes(int type, long rows, long cols);

    [LibraryImport(LibraryName, EntryPoint = "orleansllm_context_default_params")]
    internal static partial ContextParams ContextDefaultParams();

    [LibraryImport(LibraryName, EntryPoint = "orleansllm_context_init")]
    internal static partial int ContextInit(SafeModelHandle model, ContextParams parameters, out nint context);

    [LibraryImport(LibraryName, EntryPoint = "orleansllm_context_free")]
    internal static partial void ContextFree(nint context);

    [LibraryImport(LibraryName, EntryPoint = "orleansllm_context_eval")]
    internal static unsafe partial int ContextEval(SafeContextHandle context, int* tokens, int nTokens, int allLogits, float* logitsOut);

    [LibraryImport(LibraryName, EntryPoint = "orleansllm_context_reset")]
    internal static partial int ContextReset(SafeContextHandle context);

    [LibraryImport(LibraryName, EntryPoint = "orleansllm_context_n_tokens")]
    internal static partial int ContextTokenCount(SafeContextHandle context);

    /// <summary>Throws <see cref="NativeException"/> when <paramref name="status"/> is not OK.</summary>
    internal static void Check(int status)
    {
        if (status != 0)
        {
            throw new NativeException((NativeStatus)status, Marshal.PtrToStringUTF8(LastError()) ?? "");
        }
    }
}

[StructLayout(LayoutKind.Sequential)]
internal struct ReadBandwidthNative
{
    public double BestBytesPerS;
    public double MedianBytesPerS;
    public double WorstBytesPerS;
    public long BufferBytes;
    public long LlcBytes;
    public int NThreads;
    public int NPasses;
}

[StructLayout(LayoutKind.Sequential)]
internal struct ModelParams
{
    public int NThreads;
    public int UseMmap;
    public int WeightType;
    public int KvCacheDtype;
}

[StructLayout(LayoutKind.Sequential)]
internal struct ContextParams
{
    public int NCtx;
    public int KvCacheDtype;
}

[InlineArray(8)]
internal struct EosIds
{
    private int _element;
}

[StructLayout(LayoutKind.Sequential)]
internal struct ModelInfo
{
    public int VocabSize;
    public int HiddenSize;
    public int NLayers;
    public int NHeads;
    public int NKvHeads;
    public int HeadDim;
    public int MaxPositionEmbeddings;
    public int BosTokenId;
    public EosIds EosTokenIds;
    public int NEosTokenIds;
    public int WeightDtype;
    public long WeightBytes;
    public long KvBytesPerToken;
}
