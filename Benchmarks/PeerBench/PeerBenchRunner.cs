namespace OrleansLlm.PeerBench;

/// <summary>What to measure.</summary>
internal sealed record PeerBenchOptions(string ModelPath, int Threads, int PrefillTokens = 512, int DecodeTokens = 128, int Runs = 3,
    int[]? BatchSizes = null, int BatchPromptTokens = 32, int BatchDecodeSteps = 64, int LogitsPositions = 64);

/// <summary>llama.cpp and our engine on the same GGUF file and thread count, one after the other:
/// prefill, decode, batched decode, teacher-forced logits. Each engine's model is loaded only for
/// its own measurements, so the two never compete for memory bandwidth or cache.</summary>
internal static class PeerBenchRunner
{
    /// <summary>The fixed token sequences of a run: the same on both engines, and in every run.</summary>
    private static int[] Tokens(int count, int vocabSize, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => random.Next(vocabSize)).ToArray();
    }

    public static PeerBenchResult Run(PeerBenchOptions options, Action<string> progress)
    {
        if (!File.Exists(options.ModelPath))
        {
            throw new ArgumentException($"model file {options.ModelPath} does not exist (a .gguf file: orleansllm convert --to gguf)");
        }
        var batchSizes = options.BatchSizes ?? [8, 32];
        progress("loading llama.cpp (LLamaSharp.Backend.Cpu)");
        var build = LlamaCppLibrary.Load();
        progress($"llama.cpp {build.Variant} build {build.GgmlCommit}: {build.SystemInfo}");

        ModelFigures model;
        int vocab;
        float[] oursLogits;
        double oursPrefill, oursDecode;
        var oursBatched = new List<(double Seconds, long Tokens)>();
        string oursKernels;
        using (var ours = new OurEngineRunner(options.ModelPath, options.Threads))
        {
            var d = ours.Description;
            vocab = d.VocabSize;
            model = new ModelFigures(Path.GetFileName(options.ModelPath), "", d.WeightDtype, d.VocabSize, d.LayerCount, d.HiddenSize, d.WeightBytes);
            oursKernels = OrleansLlm.Native.NativeModel.CpuFeatures;
            var (prompt, logitsTokens, batchPrompts) = Inputs(options, vocab, batchSizes);
            progress($"ours: teacher-forced logits over {options.LogitsPositions} positions");
            oursLogits = ours.TeacherForcedLogits(logitsTokens);
            progress($"ours: prefill of {options.PrefillTokens} tokens (best of {options.Runs})");
            oursPrefill = ours.PrefillSeconds(prompt, options.Runs);
            progress($"ours: decode of {options.DecodeTokens} tokens (best of {options.Runs})");
            oursDecode = ours.DecodeSeconds(prompt, options.DecodeTokens, options.Runs);
            foreach (var prompts in batchPrompts)
            {
                progress($"ours: batched decode of {prompts.Length} sequences");
                oursBatched.Add(ours.BatchedDecode(prompts, options.BatchDecodeSteps));
            }
        }

        float[] theirLogits;
        double theirPrefill, theirDecode;
        var theirBatched = new List<double>();
        using (var llama = new LlamaCppRunner(options.ModelPath, options.Threads))
        {
            if (llama.VocabSize != vocab)
            {
                throw new InvalidOperationException($"llama.cpp reads a vocabulary of {llama.VocabSize} tokens, our engine {vocab}");
            }
            model = model with { Architecture = llama.Architecture };
            var (prompt, logitsTokens, batchPrompts) = Inputs(options, vocab, batchSizes);
            progress($"llama.cpp: teacher-forced logits over {options.LogitsPositions} positions");
            theirLogits = llama.TeacherForcedLogits(logitsTokens);
            progress($"llama.cpp: prefill of {options.PrefillTokens} tokens (best of {options.Runs})");
            theirPrefill = llama.PrefillSeconds(prompt, options.Runs);
            progress($"llama.cpp: decode of {options.DecodeTokens} tokens (best of {options.Runs})");
            theirDecode = llama.DecodeSeconds(prompt, options.DecodeTokens, options.Runs);
            foreach (var prompts in batchPrompts)
            {
                progress($"llama.cpp: batched decode of {prompts.Length} sequences");
                theirBatched.Add(llama.BatchedDecodeSeconds(prompts, options.BatchDecodeSteps));
            }
        }

        var batched = batchSizes.Select((n, i) => new BatchedComparison(n, options.BatchPromptTokens, options.BatchDecodeSteps,
            Comparison.Of(oursBatched[i].Tokens / oursBatched[i].Seconds, (double)n * options.BatchDecodeSteps / theirBatched[i]))).ToArray();
        return new PeerBenchResult(model, options.Threads, MachineInfo.CpuModel, MachineInfo.CpuFeatures, oursKernels, build,
            options.PrefillTokens, Comparison.Of(options.PrefillTokens / oursPrefill, options.PrefillTokens / theirPrefill),
            options.DecodeTokens, Comparison.Of(options.DecodeTokens / oursDecode, options.DecodeTokens / theirDecode),
            batched, LogitsAgreement.Compare(oursLogits, theirLogits, vocab));
    }

    private static (int[] Prompt, int[] LogitsTokens, int[][][] BatchPrompts) Inputs(PeerBenchOptions options, int vocab, int[] batchSizes)
    {
        var prompt = Tokens(options.PrefillTokens, vocab, seed: 1);
        var logitsTokens = Tokens(options.LogitsPositions, vocab, seed: 2);
        var batchPrompts = batchSizes
            .Select(n => Enumerable.Range(0, n).Select(s => Tokens(options.BatchPromptTokens, vocab, seed: 1000 + s)).ToArray())
            .ToArray();
        return (prompt, logitsTokens, batchPrompts);
    }
}
