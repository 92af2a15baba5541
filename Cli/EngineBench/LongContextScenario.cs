using System.Diagnostics;
using System.Text.Json.Serialization;
using OrleansLlm.Native;

namespace OrleansLlm.Cli.EngineBench;

/// <param name="Int8KvSpeedup">Int8KvDecodeTokensPerS / Bf16KvDecodeTokensPerS, measured interleaved.</param>
/// <param name="Int8KvKlMean">Mean over the decoded positions of KL(p_bf16_kv ‖ p_int8_kv), nats.</param>
/// <param name="Int8KvSameTopToken">Decoded positions where both caches give the same most likely token.</param>
/// <param name="Q8_0WeightsKlMean">The same KL for Q8_0 weights (BF16 cache) against the BF16 weights; null with --weights.</param>
internal sealed record LongContextBenchResult(
    string Model,
    string CpuFeatures,
    int Threads,
    string WeightDtype,
    int ContextTokens,
    int DecodeTokens,
    double PrefillTokensPerS,
    double Bf16KvDecodeTokensPerS,
    double Int8KvDecodeTokensPerS,
    double Int8KvSpeedup,
    double Int8KvKlMean,
    double Int8KvKlMax,
    int Int8KvSameTopToken,
    double? Q8_0WeightsKlMean,
    double? Q8_0WeightsKlMax,
    int? Q8_0WeightsSameTopToken);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(LongContextBenchResult))]
internal sealed partial class LongContextBenchJson : JsonSerializerContext;

/// <summary>
/// Decode after a long context (4,096 tokens, or the model's limit) with a BF16 and an INT8 KV
/// cache, side by side: two contexts over one model hold the same prompt, and each decoded token is
/// evaluated in both, alternately, each evaluation timed, so a noisy neighbour slows both alike.
/// The tokens are the BF16 cache's greedy choices (teacher-forced into the INT8 context), so the
/// two next-token distributions at each position can be compared: KL(p_bf16 ‖ p_int8). The same KL
/// for Q8_0 weights against the model's BF16 weights (both with a BF16 cache) puts the target
/// comparison ("INT8 KV costs less accuracy than Q8_0 weights") in one run.
/// </summary>
internal static class LongContextScenario
{
    private const int ContextTokens = 4096;
    private const int DecodeTokens = 64;

    public static LongContextBenchResult Run(string modelDir, int threads, Action<string> progress,
        WeightQuantization weights = WeightQuantization.AsStored)
    {
        using var model = NativeModel.Load(modelDir, threads, weights: weights);
        var threadCount = threads > 0 ? threads : Environment.ProcessorCount;
        var vocab = model.Description.VocabSize;
        var contextTokens = Math.Min(ContextTokens, model.Description.MaxPositionEmbeddings - DecodeTokens - 1);
        var random = new Random(1234);
        var prompt = Enumerable.Range(0, contextTokens).Select(_ => random.Next(vocab)).ToArray();
        var capacity = contextTokens + DecodeTokens + 1;
        using var bf16 = model.CreateContext(capacity, KvCacheType.Bf16);
        using var int8 = model.CreateContext(capacity, KvCacheType.Int8);

        progress($"prefill of {contextTokens} tokens, BF16 cache");
        var clock = Stopwatch.StartNew();
        var bf16Logits = bf16.Eval(prompt);
        var prefillSeconds = clock.Elapsed.TotalSeconds;
        progress($"prefill of {contextTokens} tokens, INT8 cache");
        var int8Logits = int8.Eval(prompt);

        progress($"decode of {DecodeTokens} tokens after {contextTokens}, BF16 and INT8 caches interleaved");
        var decoded = new int[DecodeTokens];
        var reference = new List<float[]>();
        var int8Kl = new List<double>();
        var int8SameTop = 0;
        double bf16Seconds = 0, int8Seconds = 0;
        for (var i = 0; i < DecodeTokens; i++)
        {
            reference.Add(bf16Logits);
            int8Kl.Add(KlDivergence(bf16Logits, int8Logits));
            int8SameTop += Logits.ArgMax(bf16Logits) == Logits.ArgMax(int8Logits) ? 1 : 0;
            decoded[i] = Logits.ArgMax(bf16Logits);
            // Alternate which cache goes first, so neither always runs right after the other's
            // cache traffic.
            if (i % 2 == 0)
            {
                bf16Logits = Timed(bf16, decoded[i], ref bf16Seconds);
                int8Logits = Timed(int8, decoded[i], ref int8Seconds);
            }
            else
            {
                int8Logits = Timed(int8, decoded[i], ref int8Seconds);
                bf16Logits = Timed(bf16, decoded[i], ref bf16Seconds);
            }
        }

        double? q8Mean = null, q8Max = null;
        int? q8SameTop = null;
        if (weights == WeightQuantization.AsStored)
        {
            progress($"Q8_0 weights: prefill of {contextTokens} tokens and the same {DecodeTokens} tokens");
            using var q8Model = NativeModel.Load(modelDir, threads, weights: WeightQuantization.Q8_0);
            using var q8 = q8Model.CreateContext(capacity, KvCacheType.Bf16);
            var q8Logits = q8.Eval(prompt);
            var q8Kl = new List<double>();
            q8SameTop = 0;
            for (var i = 0; i < DecodeTokens; i++)
            {
                q8Kl.Add(KlDivergence(reference[i], q8Logits));
                q8SameTop += Logits.ArgMax(reference[i]) == Logits.ArgMax(q8Logits) ? 1 : 0;
                q8Logits = q8.Eval([decoded[i]]);
            }
            q8Mean = q8Kl.Average();
            q8Max = q8Kl.Max();
        }

        var bf16Rate = DecodeTokens / bf16Seconds;
        var int8Rate = DecodeTokens / int8Seconds;
        return new LongContextBenchResult(
            Path.GetFileName(Path.TrimEndingDirectorySeparator(modelDir)), NativeModel.CpuFeatures, threadCount,
            model.Description.WeightDtype, contextTokens, DecodeTokens, contextTokens / prefillSeconds,
            bf16Rate, int8Rate, int8Rate / bf16Rate, int8Kl.Average(), int8Kl.Max(), int8SameTop, q8Mean, q8Max, q8SameTop);
    }

    private static float[] Timed(NativeContext context, int token, ref double seconds)
    {
        var start = Stopwatch.GetTimestamp();
        var logits = context.Eval([token]);
        seconds += Stopwatch.GetElapsedTime(start).TotalSeconds;
        return logits;
    }

    /// <summary>KL(p ‖ q) in nats of the softmax distributions of two logit rows, in double.</summary>
    internal static double KlDivergence(ReadOnlySpan<float> p, ReadOnlySpan<float> q)
    {
        var logP = LogSoftmax(p);
        var logQ = LogSoftmax(q);
        double kl = 0;
        for (var i = 0; i < logP.Length; i++)
        {
            kl += Math.Exp(logP[i]) * (logP[i] - logQ[i]);
        }
        return Math.Max(0, kl);
    }

    private static double[] LogSoftmax(ReadOnlySpan<float> logits)
    {
        double max = double.NegativeInfinity;
        foreach (var x in logits)
        {
            max = Math.Max(max, x);
        }
        double sum = 0;
        foreach (var x in logits)
        {
            sum += Math.Exp(x - max);
        }
        var logZ = max + Math.Log(sum);
        var result = new double[logits.Length];
        for (var i = 0; i < logits.Length; i++)
        {
            result[i] = logits[i] - logZ;
        }
        return result;
    }
}
