using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace OrleansLlm.Native;

/// <summary>P/Invoke declarations for the engine section of orleansllm.h.</summary>
internal static partial class NativeMethods
{
    [LibraryImport(LibraryName, EntryPoint = "orleansllm_engine_default_params")]
    internal static partial EngineParams EngineDefaultParams();

    [LibraryImport(LibraryName, EntryPoint = "orleansllm_sampling_default_params")]
    internal static partial SamplingParams SamplingDefaultParams();

    [LibraryImport(LibraryName, EntryPoint = "orleansllm_engine_init")]
    internal static partial int EngineInit(SafeModelHandle model, EngineParams parameters, out nint engine);

    [LibraryImport(LibraryName, EntryPoint = "orleansllm_engine_free")]
    internal static partial void EngineFree(nint engine);

    [LibraryImport(LibraryName, EntryPoint = "orleansllm_engine_add_request")]
    internal static unsafe partial int EngineAddRequest(SafeEngineHandle engine, int* prompt, int nPrompt, SamplingParams* sampling,
        byte* salt, int nSalt, int priority, out long requestId);

    [LibraryImport(LibraryName, EntryPoint = "orleansllm_engine_abort")]
    internal static partial int EngineAbort(SafeEngineHandle engine, long requestId);

    [LibraryImport(LibraryName, EntryPoint = "orleansllm_engine_step")]
    internal static partial int EngineStep(SafeEngineHandle engine, out StepOutput output);

    [LibraryImport(LibraryName, EntryPoint = "orleansllm_engine_has_unfinished")]
    internal static partial int EngineHasUnfinished(SafeEngineHandle engine);

    [LibraryImport(LibraryName, EntryPoint = "orleansllm_engine_get_stats")]
    internal static partial int EngineGetStats(SafeEngineHandle engine, out EngineStatsNative stats);
}

// Blittable mirrors of the engine structs of orleansllm.h (same field order and sizes).

[StructLayout(LayoutKind.Sequential)]
internal struct EngineParams
{
    public int BlockSizeTokens;
    public int MaxBatchedTokens;
    public long KvCacheBytes;
    public int MaxRunningRequests;
    public int MaxModelLen;
    public int NThreads;
    public int EnablePrefixCaching;
    public int Backend;
    public int DeviceIndex;
    public float GpuMemoryFraction;
    public int KvCacheDtype;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct SamplingParams
{
    public float Temperature;
    public int TopK;
    public float TopP;
    public float MinP;
    public float RepetitionPenalty;
    public float FrequencyPenalty;
    public float PresencePenalty;
    public int MaxTokens;
    public long Seed;
    public int* StopTokenIds;
    public int NStopTokenIds;
    public int IgnoreEos;
    public int Logprobs;
    public int TopLogprobs;
}

[StructLayout(LayoutKind.Sequential)]
internal struct TokenLogprobNative
{
    public int TokenId;
    public float Logprob;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct RequestOutput
{
    public long RequestId;
    public int* NewTokenIds;
    public float* Logprobs;
    public TokenLogprobNative* TopLogprobs;
    public int NNewTokens;
    public int NTopLogprobs;
    public int FinishReason;
    public int NumPromptTokens;
    public int NumCachedTokens;
    public int Reserved;
}

[InlineArray(BlockHash.SizeBytes)]
internal struct HashBytes
{
    private byte _element;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct KvEventNative
{
    public int Kind;
    public int NHashes;
    public byte* Hashes;
    public HashBytes ParentHash;
    public int HasParent;
    public int Reserved;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct StepOutput
{
    public RequestOutput* Outputs;
    public KvEventNative* KvEvents;
    public int NOutputs;
    public int NKvEvents;
    public int NScheduledTokens;
    public int NScheduledRequests;
}

[StructLayout(LayoutKind.Sequential)]
internal struct EngineStatsNative
{
    public int NBlocksTotal;
    public int NBlocksUsed;
    public int NBlocksCached;
    public int NRunning;
    public int NWaiting;
    public int BlockSizeTokens;
    public long PrefixQueryTokens;
    public long PrefixHitTokens;
    public long NPreemptions;
    public long KvSlotsAllocated;
    public long KvTokensStored;
    public long NSteps;
    public long NGeneratedTokens;
    public int MaxModelLen;
    public int Reserved;
}
