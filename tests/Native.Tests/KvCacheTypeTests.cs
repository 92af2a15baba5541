namespace OrleansLlm.Native.Tests;

/// <summary>The INT8 KV cache through the binding (engine option, model load, context), on the tiny
/// Llama of tests/golden/llama; its serving behaviour is test-engine.cpp's EngineKv suite.</summary>
public sealed class KvCacheTypeTests
{
    private static int[] Prompt(int length) => [.. Enumerable.Range(0, length).Select(i => 3 + i * 37 % 150)];

    [Fact]
    public async Task An_int8_engine_streams_and_its_budget_holds_more_blocks()
    {
        using var model = NativeModel.Load(RepoPaths.Golden("llama"), threadCount: 2);
        using var bf16 = new NativeEngine(model, new EngineOptions { KvCacheBytes = 1 << 20, KvCacheType = KvCacheType.Bf16 });
        using var int8 = new NativeEngine(model, new EngineOptions { KvCacheBytes = 1 << 20, KvCacheType = KvCacheType.Int8 });
        var tokens = new List<int>();
        await foreach (var t in int8.GenerateAsync(Prompt(20), SamplingOptions.Greedy(8) with { IgnoreEos = true }))
        {
            tokens.Add(t.TokenId);
        }
        Assert.Equal(8, tokens.Count);
        // head_dim 16: 20 bytes a row instead of 32.
        Assert.Equal(bf16.GetStats().BlocksTotal * 32 / 20, int8.GetStats().BlocksTotal, tolerance: 1);
    }

    [Fact]
    public void A_model_loaded_with_int8_reports_its_bytes_per_token_and_contexts_follow()
    {
        using var model = NativeModel.Load(RepoPaths.Golden("llama"), threadCount: 2, kvCache: KvCacheType.Int8);
        var d = model.Description;
        Assert.Equal(2L * d.LayerCount * d.KvHeadCount * (d.HeadDim + 4), d.KvBytesPerToken);
        using var context = model.CreateContext(32);
        Assert.Equal(d.VocabSize, context.Eval(Prompt(10)).Length);
        using var bf16 = model.CreateContext(32, KvCacheType.Bf16);
        Assert.Equal(d.VocabSize, bf16.Eval(Prompt(10)).Length);
    }

    [Fact]
    public void Int8_on_the_cuda_backend_is_refused_with_a_reason()
    {
        using var model = NativeModel.Load(RepoPaths.Golden("llama"), threadCount: 2);
        var ex = Assert.Throws<NativeException>(() =>
            new NativeEngine(model, new EngineOptions { Backend = EngineBackend.Cuda, KvCacheType = KvCacheType.Int8 }));
        Assert.Equal(NativeStatus.Unsupported, ex.Status);
        Assert.Contains("cuda backend", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("int8", KvCacheType.Int8)]
    [InlineData("BF16", KvCacheType.Bf16)]
    [InlineData("fp8", null)]
    public void Names_parse(string name, KvCacheType? expected) => Assert.Equal(expected, KvCacheTypes.Parse(name));
}
