namespace OrleansLlm.PeerBench;

/// <summary>What to measure.</summary>
/// <param name="ReferencePath">A GGUF of the same model in more precision (an F32 or BF16 file of
/// the weights <paramref name="ModelPath"/> was quantized from): both engines' logits are compared
/// with llama.cpp's on it, computed with <see cref="LlamaCppContextSettings.Exact"/>.</param>
/// <param name="SkipSpeed">Only the logits comparisons (minutes less on a large model).</param>
/// <param name="OursKvCache">Our engine's KV cache type (llama.cpp keeps its default F16 cache).</param>
internal sealed record PeerBenchOptions(string ModelPath, int Threads, int PrefillTokens = 512, int DecodeTokens = 128, int Runs = 3,
    int[]? BatchSizes = null, int BatchPromptTokens = 32, int BatchDecodeSteps = 64, int LogitsPositions = 64,
    string? ReferencePath = null, bool SkipSpeed = false, OrleansLlm.Native.KvCacheType OursKvCache = OrleansLlm.Native.KvCacheType.ModelDefault);

/// <summary>One engine's side of every measurement.</summary>
internal interface IPeerEngine : IDisposable
{
    /// <summary>Logits of every position of <paramref name="tokens"/>, one eval from position 0: [tokens, vocab].</summary>
    float[] TeacherForcedLogits(int[] tokens);

    /// <summary>Seconds of the fastest of <paramref name="runs"/> prefills of <paramref name="prompt"/> (last logits only).</summary>
    double PrefillSeconds(int[] prompt, int runs);

    /// <summary>Seconds of the fastest of <paramref name="runs"/> greedy decodes of
    /// <paramref name="decodeTokens"/> tokens, one at a time, after <paramref name="prompt"/>.</summary>
    double DecodeSeconds(int[] prompt, int decodeTokens, int runs);

    /// <summary>Seconds of <paramref name="steps"/> batched greedy decode steps of every sequence after
    /// its prompt was prefilled (not timed), and the tokens those steps made.</summary>
    (double Seconds, long Tokens) BatchedDecode(int[][] prompts, int steps);
}

/// <summary>llama.cpp and our engine on the same GGUF file and thread count: teacher-forced logits,
/// then prefill, decode and batched decode with the two engines' runs alternating (ours, theirs,
/// ours, …), so that a shared machine's slow and fast spells fall on both alike; then the accuracy
/// figures that need only llama.cpp (its spread against itself, the reference file). Both models
/// stay loaded, but only one engine runs at a time, so they never compete for bandwidth.</summary>
internal static class PeerBenchRunner
{
    /// <summary>One engine's figures on the model.</summary>
    private sealed record Figures(float[] Logits, double? PrefillSeconds, double? DecodeSeconds, (double Seconds, long Tokens)[] Batched);

    public static PeerBenchResult Run(PeerBenchOptions options, Action<string> progress)
    {
        foreach (var path in new[] { options.ModelPath, options.ReferencePath })
        {
            if (path is not null && !File.Exists(path))
            {
                throw new ArgumentException($"model file {path} does not exist (a .gguf file: orleansllm convert --to gguf)");
            }
        }
        var batchSizes = options.BatchSizes ?? [8, 32];
        progress("loading llama.cpp (LLamaSharp.Backend.Cpu)");
        var build = LlamaCppLibrary.Load();
        progress($"llama.cpp {build.Variant} build {build.GgmlCommit}: {build.SystemInfo}");

        using var engine = new OurEngineRunner(options.ModelPath, options.Threads, options.OursKvCache);
        var d = engine.Description;
        var vocab = d.VocabSize;
        var model = new ModelFigures(Path.GetFileName(options.ModelPath), "", d.WeightDtype, d.VocabSize, d.LayerCount, d.HiddenSize,
            d.WeightBytes, OrleansLlm.Native.KvCacheTypes.Name(options.OursKvCache), d.KvBytesPerToken);
        var inputs = MakeInputs(options, vocab, batchSizes);
        progress($"ours: teacher-forced logits over {options.LogitsPositions} positions");
        var oursLogits = engine.TeacherForcedLogits(inputs.LogitsTokens);
        using var llama = new LlamaCppRunner(options.ModelPath, options.Threads);
        CheckSameModel(llama, vocab, options.ModelPath);
        model = model with { Architecture = llama.Architecture };
        progress($"llama.cpp: teacher-forced logits over {options.LogitsPositions} positions");
        var theirLogits = llama.TeacherForcedLogits(inputs.LogitsTokens);
        var (ours, theirs) = options.SkipSpeed
            ? (new Figures(oursLogits, null, null, []), new Figures(theirLogits, null, null, []))
            : MeasureAlternating((engine, oursLogits), (llama, theirLogits), options, inputs, progress);
        var equivalents = new List<(string Variant, float[] Logits)>();
        foreach (var variant in LlamaCppContextSettings.EquivalentVariants)
        {
            progress($"llama.cpp ({variant.Name}): teacher-forced logits");
            equivalents.Add((variant.Name, llama.TeacherForcedLogits(inputs.LogitsTokens, variant)));
        }
        ReferenceAgreement? reference = null;
        if (options.ReferencePath is { } referencePath)
        {
            using var referenceLlama = new LlamaCppRunner(referencePath, options.Threads);
            CheckSameModel(referenceLlama, vocab, referencePath);
            progress($"reference: llama.cpp on {Path.GetFileName(referencePath)} ({LlamaCppContextSettings.Exact.Name})");
            var logits = referenceLlama.TeacherForcedLogits(inputs.LogitsTokens, LlamaCppContextSettings.Exact);
            reference = new ReferenceAgreement(Path.GetFileName(referencePath), $"llama.cpp, {LlamaCppContextSettings.Exact.Name}",
                LogitsAgreement.Compare(ours.Logits, logits, vocab), LogitsAgreement.Compare(theirs.Logits, logits, vocab));
        }

        var batched = ours.Batched.Length == 0 ? null : batchSizes.Select((n, i) => new BatchedComparison(n, options.BatchPromptTokens,
            options.BatchDecodeSteps, Comparison.Of(ours.Batched[i].Tokens / ours.Batched[i].Seconds, theirs.Batched[i].Tokens / theirs.Batched[i].Seconds))).ToArray();
        return new PeerBenchResult(model, options.Threads, MachineInfo.CpuModel, MachineInfo.CpuFeatures, OrleansLlm.Native.NativeModel.CpuFeatures,
            build, options.PrefillTokens, Speed(options.PrefillTokens, ours.PrefillSeconds, theirs.PrefillSeconds),
            options.DecodeTokens, Speed(options.DecodeTokens, ours.DecodeSeconds, theirs.DecodeSeconds),
            batched, LogitsAgreement.Compare(ours.Logits, theirs.Logits, vocab),
            equivalents.Select(e => new VariantAgreement(e.Variant, LogitsAgreement.Compare(e.Logits, theirs.Logits, vocab))).ToArray(),
            reference);
    }

    /// <summary>Both engines' speed figures, their runs alternating and each round's first engine
    /// swapped: prefill best of options.Runs each, decode best of options.Runs each, then each batch
    /// size once per engine.</summary>
    private static (Figures Ours, Figures Theirs) MeasureAlternating((IPeerEngine Engine, float[] Logits) ours,
        (IPeerEngine Engine, float[] Logits) theirs, PeerBenchOptions options, Inputs inputs, Action<string> progress)
    {
        var sides = new[] { (Name: "ours", ours.Engine), (Name: "llama.cpp", theirs.Engine) };
        // The fastest of options.Runs runs per engine, the engines taking turns.
        double[] Best(string what, Func<IPeerEngine, double> seconds)
        {
            var best = new[] { double.MaxValue, double.MaxValue };
            for (var run = 1; run <= options.Runs; run++)
            {
                foreach (var e in Order(run))
                {
                    progress($"{sides[e].Name}: {what} (run {run} of {options.Runs})");
                    best[e] = Math.Min(best[e], seconds(sides[e].Engine));
                }
            }
            return best;
        }
        var prefill = Best($"prefill of {options.PrefillTokens} tokens", engine => engine.PrefillSeconds(inputs.Prompt, 1));
        var decode = Best($"decode of {options.DecodeTokens} tokens", engine => engine.DecodeSeconds(inputs.Prompt, options.DecodeTokens, 1));
        var batched = new[] { new (double Seconds, long Tokens)[inputs.BatchPrompts.Length], new (double Seconds, long Tokens)[inputs.BatchPrompts.Length] };
        for (var b = 0; b < inputs.BatchPrompts.Length; b++)
        {
            foreach (var e in Order(b + 1))
            {
                progress($"{sides[e].Name}: batched decode of {inputs.BatchPrompts[b].Length} sequences");
                batched[e][b] = sides[e].Engine.BatchedDecode(inputs.BatchPrompts[b], options.BatchDecodeSteps);
            }
        }
        return (new Figures(ours.Logits, prefill[0], decode[0], batched[0]), new Figures(theirs.Logits, prefill[1], decode[1], batched[1]));
    }

    /// <summary>Which engine goes first in run <paramref name="run"/> (1-based): ours in odd runs, llama.cpp in even ones.</summary>
    private static int[] Order(int run) => run % 2 == 1 ? [0, 1] : [1, 0];

    private static Comparison? Speed(int tokens, double? oursSeconds, double? theirSeconds) =>
        oursSeconds is { } o && theirSeconds is { } t ? Comparison.Of(tokens / o, tokens / t) : null;

    private static void CheckSameModel(LlamaCppRunner llama, int vocab, string path)
    {
        if (llama.VocabSize != vocab)
        {
            throw new InvalidOperationException($"llama.cpp reads a vocabulary of {llama.VocabSize} tokens in {path}, our engine {vocab} in the model");
        }
    }

    /// <summary>The fixed token sequences of a run: the same on both engines, and in every run.</summary>
    private sealed record Inputs(int[] Prompt, int[] LogitsTokens, int[][][] BatchPrompts);

    private static Inputs MakeInputs(PeerBenchOptions options, int vocab, int[] batchSizes) => new(
        Tokens(options.PrefillTokens, vocab, seed: 1),
        Tokens(options.LogitsPositions, vocab, seed: 2),
        batchSizes.Select(n => Enumerable.Range(0, n).Select(s => Tokens(options.BatchPromptTokens, vocab, seed: 1000 + s)).ToArray()).ToArray());

    private static int[] Tokens(int count, int vocabSize, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => random.Next(vocabSize)).ToArray();
    }
}
