using OrleansLlm.Tests.Shared;

namespace OrleansLlm.PeerBench.Tests;

/// <summary>Tiny random-weight models (make-model --preset tiny), converted to GGUF by our converter,
/// written once for the test class.</summary>
public sealed class TinyGgufModels : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("peer-bench-tests-").FullName;
    private readonly Dictionary<string, string> _files = [];
    private readonly Lock _gate = new();

    /// <summary>The GGUF file of the tiny preset in <paramref name="arch"/> / <paramref name="dtype"/>.</summary>
    public string Get(string arch, string dtype)
    {
        lock (_gate)
        {
            var key = arch + "-" + dtype;
            if (!_files.TryGetValue(key, out var gguf))
            {
                var dir = Path.Combine(_root, key);
                gguf = dir + ".gguf";
                CliRunner.Run("make-model", "--preset", "tiny", "--arch", arch, "--dtype", dtype, "--seed", "7", "--out", dir);
                CliRunner.Run("convert", "--to", "gguf", dir, gguf);
                _files[key] = gguf;
            }
            return gguf;
        }
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

}

/// <summary>
/// Our engine against llama.cpp (LLamaSharp's CPU build, an independent implementation) on the
/// same GGUF file: the logits of 64 teacher-forced positions agree to cosine ≥ 0.9999 and pick
/// the same top token wherever the top two are not tied within the engines' difference. Covers our GGUF writer (llama Q/K row permutation, F32 norms,
/// qwen2 biases, qwen3 q/k norms) and our forward pass in one comparison.
/// </summary>
public sealed class LlamaCppLogitsTests(TinyGgufModels models) : IClassFixture<TinyGgufModels>
{
    private const int Positions = 64;

    [LlamaCppTheory]
    [InlineData("llama", "bf16")]
    [InlineData("qwen2", "f16")]
    [InlineData("qwen3", "bf16")]
    public void Teacher_forced_logits_agree_with_llama_cpp(string arch, string dtype)
    {
        var gguf = models.Get(arch, dtype);
        float[] ours, theirs;
        int vocab;
        using (var engine = new OurEngineRunner(gguf, threads: 2))
        {
            vocab = engine.Description.VocabSize;
            ours = engine.TeacherForcedLogits(Tokens(vocab));
        }
        using (var llama = new LlamaCppRunner(gguf, threads: 2))
        {
            Assert.Equal(vocab, llama.VocabSize);
            Assert.Equal(arch, llama.Architecture);
            theirs = llama.TeacherForcedLogits(Tokens(vocab));
        }

        var agreement = LogitsAgreement.Compare(ours, theirs, vocab);
        Assert.Equal(Positions, agreement.Positions);
        Assert.True(agreement.CosineMin >= 0.9999, $"{arch}/{dtype}: {agreement}");
        // Random tiny models have near-flat logits: a top token may differ only where the top two
        // are closer than the two engines' largest difference (a tie within rounding).
        Assert.True(agreement.ArgmaxAgreement >= 0.95, $"{arch}/{dtype}: {agreement}");
        for (var p = 0; p < Positions; p++)
        {
            var a = ours.AsSpan(p * vocab, vocab);
            var b = theirs.AsSpan(p * vocab, vocab);
            int oursTop = LlamaCppRunner.ArgMax(a), theirTop = LlamaCppRunner.ArgMax(b);
            Assert.True(oursTop == theirTop || a[oursTop] - a[theirTop] <= 2 * agreement.MaxAbsDiff,
                $"{arch}/{dtype} position {p}: our top {oursTop} ({a[oursTop]}) beats llama.cpp's {theirTop} ({a[theirTop]}) by more than 2 x {agreement.MaxAbsDiff}");
        }
    }

    [LlamaCppFact]
    public void The_loaded_build_names_its_variant_and_features()
    {
        var build = LlamaCppLibrary.Load();
        Assert.Contains(build.Variant, new[] { "noavx", "avx", "avx2", "avx512" });
        Assert.EndsWith("libllama.so", build.LibraryPath);
        Assert.Contains("CPU", build.SystemInfo);
        Assert.NotEqual("unknown", build.GgmlCommit);
    }

    private static int[] Tokens(int vocab)
    {
        var random = new Random(64);
        return Enumerable.Range(0, Positions).Select(_ => random.Next(vocab)).ToArray();
    }
}
