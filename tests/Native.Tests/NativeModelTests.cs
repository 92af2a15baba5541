using System.Text.Json;

namespace OrleansLlm.Native.Tests;

public sealed class NativeModelTests
{
    [Fact]
    public void Loads_a_model_and_describes_it()
    {
        using var model = NativeModel.Load(RepoPaths.Golden("qwen3"));
        var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoPaths.Golden("qwen3"), "config.json"))).RootElement;
        Assert.Equal(config.GetProperty("vocab_size").GetInt32(), model.Description.VocabSize);
        Assert.Equal(config.GetProperty("num_hidden_layers").GetInt32(), model.Description.LayerCount);
        Assert.Equal(config.GetProperty("head_dim").GetInt32(), model.Description.HeadDim);
        Assert.True(model.Description.WeightBytes > 0);
        Assert.Contains(NativeModel.CpuFeatures, new[] { "avx2", "avx512", "avx512bf16" });
    }

    [Fact]
    public void Logits_through_the_binding_match_the_golden_fixture()
    {
        var dir = RepoPaths.Golden("llama");
        var golden = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "golden.json"))).RootElement;
        var prompt = golden.GetProperty("prompts")[1].EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var expected = golden.GetProperty("logits")[1][prompt.Length - 1].EnumerateArray().Select(e => e.GetSingle()).ToArray();

        using var model = NativeModel.Load(dir);
        using var context = model.CreateContext(64);
        var logits = context.Eval(prompt);

        var maxLogit = expected.Max(MathF.Abs);
        var maxDelta = expected.Zip(logits, (e, a) => MathF.Abs(e - a)).Max();
        Assert.True(maxDelta / maxLogit < 1e-4f, $"max|Δ|/max|logit| = {maxDelta / maxLogit}");
        Assert.Equal(prompt.Length, context.TokenCount);
    }

    // The context points into the model's weights. Before SafeContextHandle held a reference on
    // the model handle, disposing the model first freed (unmapped) the weights under the context,
    // and the Eval below crashed the test host.
    [Fact]
    public void A_context_keeps_its_model_alive_when_the_model_is_disposed_first()
    {
        var dir = RepoPaths.Golden("llama");
        int[] prompt = [1, 5, 9, 14];
        float[] expected;
        using (var reference = NativeModel.Load(dir))
        using (var referenceContext = reference.CreateContext(16))
        {
            referenceContext.Eval(prompt[..2]);
            expected = referenceContext.Eval(prompt[2..]);
        }

        var model = NativeModel.Load(dir);
        var context = model.CreateContext(16);
        context.Eval(prompt[..2]);
        model.Dispose();
        Assert.Throws<ObjectDisposedException>(() => model.CreateContext(16));
        Assert.Throws<ObjectDisposedException>(() => new NativeEngine(model));
        Assert.Equal(expected, context.Eval(prompt[2..]));
        context.Dispose();
        Assert.Throws<ObjectDisposedException>(() => context.Eval([1]));
    }

    [Fact]
    public void A_missing_directory_is_an_io_error_naming_it()
    {
        var ex = Assert.Throws<NativeException>(() => NativeModel.Load("/nonexistent/model-dir"));
        Assert.Equal(NativeStatus.Io, ex.Status);
        Assert.Contains("/nonexistent/model-dir", ex.Message);
    }

    [Fact]
    public void Bad_tokens_and_overflow_are_rejected_and_the_context_keeps_working()
    {
        using var model = NativeModel.Load(RepoPaths.Golden("tied"));
        using var context = model.CreateContext(8);
        var outOfVocab = Assert.Throws<NativeException>(() => context.Eval([1, model.Description.VocabSize]));
        Assert.Equal(NativeStatus.InvalidArgument, outOfVocab.Status);
        var overflow = Assert.Throws<NativeException>(() => context.Eval(new int[9]));
        Assert.Equal(NativeStatus.Capacity, overflow.Status);
        Assert.Equal(0, context.TokenCount);
        Assert.Equal(model.Description.VocabSize, context.Eval([1, 2, 3]).Length);
        Assert.Equal(3, context.TokenCount);
    }
}
