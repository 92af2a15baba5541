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
        Assert.Equal(32, Unsafe.SizeOf<EngineParams>());
        Assert.Equal(64, Unsafe.SizeOf<SamplingParams>());
        Assert.Equal(56, Unsafe.SizeOf<RequestOutput>());
        Assert.Equal(40, Unsafe.SizeOf<KvEventNative>());
        Assert.Equal(32, Unsafe.SizeOf<StepOutput>());
        Assert.Equal(88, Unsafe.SizeOf<EngineStatsNative>());
        Assert.Equal(16, (int)Marshal.OffsetOf<KvEventNative>(nameof(KvEventNative.ParentHash)));
        Assert.Equal(32, (int)Marshal.OffsetOf<KvEventNative>(nameof(KvEventNative.HasParent)));
    }

    [Fact]
    public void Native_defaults_are_the_documented_ones()
    {
        var model = NativeMethods.ModelDefaultParams();
        Assert.Equal(0, model.NThreads);
        Assert.Equal(0, model.UseMmap);
        Assert.Equal(8, Unsafe.SizeOf<ModelParams>());
        var engine = NativeMethods.EngineDefaultParams();
        Assert.Equal(16, engine.BlockSizeTokens);
        Assert.Equal(1L << 30, engine.KvCacheBytes);
        Assert.Equal(1, engine.EnablePrefixCaching);
        var sampling = NativeMethods.SamplingDefaultParams();
        Assert.Equal(1.0f, sampling.Temperature);
        Assert.Equal(-1, sampling.Seed);
        Assert.Equal(16, sampling.MaxTokens);
        var options = new EngineOptions();
        Assert.Equal(engine.MaxBatchedTokens, options.MaxBatchedTokens);
        Assert.Equal(engine.MaxRunningRequests, options.MaxRunningRequests);
    }
}
