using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace OrleansLlm.Native.Tests;

/// <summary>
/// The blittable mirrors against the C structs: sizes and offsets printed by a C program that
/// includes orleansllm.h (gcc, x86-64 Linux: sizeof / offsetof).
/// </summary>
public sealed class EngineStructLayoutTests
{
    [Fact]
    public void Mirrors_have_the_sizes_of_the_c_structs()
    {
        Assert.Equal(48, Unsafe.SizeOf<EngineParams>());
        Assert.Equal(32, (int)Marshal.OffsetOf<EngineParams>(nameof(EngineParams.Backend)));
        Assert.Equal(40, (int)Marshal.OffsetOf<EngineParams>(nameof(EngineParams.GpuMemoryFraction)));
        Assert.Equal(44, (int)Marshal.OffsetOf<EngineParams>(nameof(EngineParams.KvCacheDtype)));
        Assert.Equal(64, Unsafe.SizeOf<SamplingParams>());
        Assert.Equal(56, Unsafe.SizeOf<RequestOutput>());
        Assert.Equal(40, Unsafe.SizeOf<KvEventNative>());
        Assert.Equal(32, Unsafe.SizeOf<StepOutput>());
        Assert.Equal(88, Unsafe.SizeOf<EngineStatsNative>());
        Assert.Equal(8, Unsafe.SizeOf<ContextParams>());
        Assert.Equal(4, (int)Marshal.OffsetOf<ContextParams>(nameof(ContextParams.KvCacheDtype)));
        Assert.Equal(16, Unsafe.SizeOf<ModelParams>());
        Assert.Equal(8, (int)Marshal.OffsetOf<ModelParams>(nameof(ModelParams.WeightType)));
        Assert.Equal(12, (int)Marshal.OffsetOf<ModelParams>(nameof(ModelParams.KvCacheDtype)));
        Assert.Equal(48, Unsafe.SizeOf<ReadBandwidthNative>());
        Assert.Equal(24, (int)Marshal.OffsetOf<ReadBandwidthNative>(nameof(ReadBandwidthNative.BufferBytes)));
        Assert.Equal(40, (int)Marshal.OffsetOf<ReadBandwidthNative>(nameof(ReadBandwidthNative.NThreads)));
        Assert.Equal(16, (int)Marshal.OffsetOf<KvEventNative>(nameof(KvEventNative.ParentHash)));
        Assert.Equal(32, (int)Marshal.OffsetOf<KvEventNative>(nameof(KvEventNative.HasParent)));
    }

    [Fact]
    public void Native_defaults_are_the_documented_ones()
    {
        var model = NativeMethods.ModelDefaultParams();
        Assert.Equal(0, model.NThreads);
        Assert.Equal(0, model.UseMmap);
        Assert.Equal(0, model.WeightType);
        Assert.Equal(0, model.KvCacheDtype);
        var engine = NativeMethods.EngineDefaultParams();
        Assert.Equal(16, engine.BlockSizeTokens);
        Assert.Equal(1L << 30, engine.KvCacheBytes);
        Assert.Equal(1, engine.EnablePrefixCaching);
        Assert.Equal(0, engine.Backend);
        Assert.Equal(0, engine.DeviceIndex);
        Assert.Equal(0.9f, engine.GpuMemoryFraction);
        Assert.Equal(0, engine.KvCacheDtype);
        var sampling = NativeMethods.SamplingDefaultParams();
        Assert.Equal(1.0f, sampling.Temperature);
        Assert.Equal(-1, sampling.Seed);
        Assert.Equal(16, sampling.MaxTokens);
        Assert.Equal(0, NativeMethods.ContextDefaultParams().NCtx);
        Assert.Equal(0, NativeMethods.ContextDefaultParams().KvCacheDtype);
    }

    // The records take their defaults from the native *_default_params (a copy of the literals
    // could drift); the documented values above are the independent check of those.
    [Fact]
    public void Option_records_default_to_the_native_defaults()
    {
        var engine = NativeMethods.EngineDefaultParams();
        var options = new EngineOptions();
        Assert.Equal(engine.BlockSizeTokens, options.BlockSizeTokens);
        Assert.Equal(engine.KvCacheBytes, options.KvCacheBytes);
        Assert.Equal(engine.MaxBatchedTokens, options.MaxBatchedTokens);
        Assert.Equal(engine.MaxRunningRequests, options.MaxRunningRequests);
        Assert.Equal(engine.MaxModelLen, options.MaxModelLength);
        Assert.Equal(engine.NThreads, options.ThreadCount);
        Assert.True(options.EnablePrefixCaching);
        Assert.Equal(EngineBackend.Cpu, options.Backend);
        Assert.Equal(engine.DeviceIndex, options.DeviceIndex);
        Assert.Equal(engine.GpuMemoryFraction, options.GpuMemoryFraction);
        Assert.Equal(KvCacheType.ModelDefault, options.KvCacheType);

        var sampling = NativeMethods.SamplingDefaultParams();
        var s = new SamplingOptions();
        Assert.Equal(sampling.Temperature, s.Temperature);
        Assert.Equal(sampling.TopK, s.TopK);
        Assert.Equal(sampling.TopP, s.TopP);
        Assert.Equal(sampling.MinP, s.MinP);
        Assert.Equal(sampling.RepetitionPenalty, s.RepetitionPenalty);
        Assert.Equal(sampling.MaxTokens, s.MaxTokens);
        Assert.Null(s.Seed);  // native -1: a random seed
        Assert.False(s.IgnoreEos);
        Assert.False(s.Logprobs);
        Assert.Equal(0, s.TopLogprobs);
    }

    [Fact]
    public void Exceptions_name_the_status_as_the_native_library_does()
    {
        Assert.Contains("(invalid_argument)", new NativeException(NativeStatus.InvalidArgument, "m").Message);
        Assert.Contains("(out_of_memory)", new NativeException(NativeStatus.OutOfMemory, "m").Message);
        Assert.Contains("(unknown)", new NativeException((NativeStatus)99, "m").Message);
    }
}
