using OrleansLlm.Native;
using OrleansLlm.Tests.Shared;

namespace OrleansLlm.PeerBench.Tests;

/// <summary>Tiny random-weight models (make-model --preset tiny), converted to GGUF by our converter,
/// written once for the test class.</summary>
public sealed class TinyGgufModels : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("peer-bench-tests-").FullName;
    private readonly Dictionary<string, string> _files = [];
    private readonly Lock _gate = new();

    /// <summary>The GGUF file of the tiny preset in <paramref name="arch"/> / <paramref name="dtype"/>,
    /// converted with <c>--type <paramref name="convertType"/></c> when given.</summary>
    public string Get(string arch, string dtype, string? convertType = null)
    {
        lock (_gate)
        {
            var key = arch + "-" + dtype + (convertType is null ? "" : "-" + convertType);
            if (!_files.TryGetValue(key, out var gguf))
            {
                var dir = Path.Combine(_root, key);
                gguf = dir + ".gguf";
                CliRunner.Run("make-model", "--preset", "tiny", "--arch", arch, "--dtype", dtype, "--seed", "7", "--out", dir);
                CliRunner.Run(convertType is null ? ["convert", "--to", "gguf", dir, gguf] : ["convert", "--to", "gguf", "--type", convertType, dir, gguf]);
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
            int oursTop = Logits.ArgMax(a), theirTop = Logits.ArgMax(b);
            Assert.True(oursTop == theirTop || a[oursTop] - a[theirTop] <= 2 * agreement.MaxAbsDiff,
                $"{arch}/{dtype} position {p}: our top {oursTop} ({a[oursTop]}) beats llama.cpp's {theirTop} ({a[theirTop]}) by more than 2 x {agreement.MaxAbsDiff}");
        }
    }

    /// <summary>On an F32 file, with llama.cpp's cache in F32 and no flash attention, both engines
    /// compute in F32 throughout: they agree to float rounding, not just to BF16's.</summary>
    [LlamaCppFact]
    public void On_an_f32_file_the_reference_agrees_to_float_rounding()
    {
        var bf16 = models.Get("llama", "bf16");
        var f32 = models.Get("llama", "bf16", convertType: "f32");
        var result = PeerBenchRunner.Run(new PeerBenchOptions(f32, Threads: 2, LogitsPositions: 16, ReferencePath: f32, SkipSpeed: true), _ => { });
        Assert.True(result.Reference!.Ours.CosineMin >= 0.999999, $"{result.Reference.Ours}");
        Assert.True(result.Reference.Ours.KlMax <= 1e-7, $"{result.Reference.Ours}");
        Assert.Null(result.Prefill);
        Assert.Null(result.BatchedDecode);

        // The BF16 file against that reference: both engines round (BF16 activations or cache) and
        // move away from it by comparable amounts; llama.cpp's own variants are reported beside.
        var rounded = PeerBenchRunner.Run(new PeerBenchOptions(bf16, Threads: 2, LogitsPositions: 16, ReferencePath: f32, SkipSpeed: true), _ => { });
        Assert.Equal(LlamaCppContextSettings.EquivalentVariants.Count, rounded.LlamaCppSelfAgreement.Count);
        Assert.All(rounded.LlamaCppSelfAgreement, v => Assert.True(v.Agreement.CosineMin >= 0.999, $"{v}"));
        Assert.True(rounded.Reference!.Ours.CosineMin >= 0.9999, $"{rounded.Reference.Ours}");
        Assert.True(rounded.Reference.LlamaCpp.CosineMin >= 0.9999, $"{rounded.Reference.LlamaCpp}");
        Assert.True(rounded.Reference.Ours.KlMean > 0, "a BF16 file computed with BF16 roundings differs from the F32 reference");

        // Our 8-bit KV cache: fewer bytes per token, further from the reference than the BF16 cache, still close.
        var int8 = PeerBenchRunner.Run(new PeerBenchOptions(bf16, Threads: 2, LogitsPositions: 16, ReferencePath: f32, SkipSpeed: true,
            OursKvCache: OrleansLlm.Native.KvCacheType.Int8), _ => { });
        Assert.Equal("int8", int8.Model.OursKvCache);
        Assert.True(int8.Model.OursKvBytesPerToken < rounded.Model.OursKvBytesPerToken * 0.6, $"{int8.Model} vs {rounded.Model}");
        Assert.True(int8.Reference!.Ours.CosineMin >= 0.999, $"{int8.Reference.Ours}");
        Assert.True(int8.Reference.Ours.KlMean > rounded.Reference.Ours.KlMean, $"{int8.Reference.Ours} vs {rounded.Reference.Ours}");
    }

    /// <summary>The speed figures: the two engines' runs alternate, each round's first engine
    /// swapped, and every figure is a positive rate. (No batched decode: on the tiny model one
    /// sequence can finish before the next one arrives, so no step would batch them all.)</summary>
    [LlamaCppFact]
    public void Speed_runs_alternate_between_the_engines_and_give_positive_rates()
    {
        var gguf = models.Get("llama", "bf16");
        var log = new List<string>();
        var result = PeerBenchRunner.Run(new PeerBenchOptions(gguf, Threads: 2, PrefillTokens: 16, DecodeTokens: 4, Runs: 3, BatchSizes: [],
            LogitsPositions: 8), log.Add);
        string[] Firsts(string what) => log.Where(l => l.Contains(what)).Select(l => l[..l.IndexOf(':')]).ToArray();
        Assert.Equal(["ours", "llama.cpp", "llama.cpp", "ours", "ours", "llama.cpp"], Firsts(": prefill of"));
        Assert.Equal(["ours", "llama.cpp", "llama.cpp", "ours", "ours", "llama.cpp"], Firsts(": decode of"));
        foreach (var c in new[] { result.Prefill!, result.Decode! })
        {
            Assert.True(c.OursTokensPerS > 0 && c.LlamaCppTokensPerS > 0 && double.IsFinite(c.Ratio), $"{c}");
        }
        Assert.Null(result.BatchedDecode);
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
