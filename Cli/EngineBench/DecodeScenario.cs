using System.Diagnostics;
using OrleansLlm.Native;

namespace OrleansLlm.Cli.EngineBench;

/// <param name="DecodeBytesPerToken">Weights read per decoded token plus the K/V of the mean context.</param>
/// <param name="ReadBandwidthBytesPerS">The probe's best pass over all rounds (the roofline).</param>
/// <param name="ReadBandwidthSpread">(best - worst) / median over every pass of every round.</param>
internal sealed record DecodeBenchResult(
    string Model,
    string CpuFeatures,
    int Threads,
    string WeightDtype,
    int PrefillTokens,
    double PrefillTokensPerS,
    int DecodeTokens,
    double DecodeTokensPerS,
    long WeightBytes,
    long DecodeBytesPerToken,
    double ReadBandwidthBytesPerS,
    double ReadBandwidthMedianBytesPerS,
    double ReadBandwidthWorstBytesPerS,
    double ReadBandwidthSpread,
    long ReadBandwidthBufferBytes,
    int ReadBandwidthPasses,
    double DecodeRooflineRatio);

/// <summary>Single-sequence prefill and decode speed against the machine's measured read bandwidth:
/// decoding one token reads every weight once plus its context's K/V, so bandwidth / those bytes
/// bounds tokens/s.</summary>
internal static class DecodeScenario
{
    private const int PrefillTokens = 256;
    private const int DecodePromptTokens = 16;
    private const int DecodeTokens = 128;
    private const int Rounds = 3;
    private const int ProbePassesPerRound = 5;

    public static DecodeBenchResult Run(string modelDir, int threads, Action<string> progress,
        WeightQuantization weights = WeightQuantization.AsStored, KvCacheType kvCache = KvCacheType.ModelDefault)
    {
        using var model = NativeModel.Load(modelDir, threads, weights: weights, kvCache: kvCache);
        var threadCount = threads > 0 ? threads : Environment.ProcessorCount;
        var vocab = model.Description.VocabSize;
        var random = new Random(1234);
        var prompt = Enumerable.Range(0, PrefillTokens).Select(_ => random.Next(vocab)).ToArray();
        using var context = model.CreateContext(PrefillTokens + DecodeTokens + 16);

        progress("warming up (page in the weights)");
        context.Eval(prompt.AsSpan(0, 16));
        context.Reset();

        progress($"prefill of {PrefillTokens} tokens");
        var prefillSeconds = double.MaxValue;
        for (var run = 0; run < 2; run++)
        {
            context.Reset();
            var sw = Stopwatch.StartNew();
            context.Eval(prompt);
            prefillSeconds = Math.Min(prefillSeconds, sw.Elapsed.TotalSeconds);
        }

        // Decode and the bandwidth probe alternate, best of each kept, so a noisy neighbour slows
        // both rather than skewing the ratio. The probe is the same every run: the native one, all
        // engine threads, a buffer of max(1 GiB, 8 × LLC) held like the weights, fixed passes.
        var decodeSeconds = double.MaxValue;
        var probes = new List<ReadBandwidth>();
        var logits = new float[vocab];
        for (var round = 1; round <= Rounds; round++)
        {
            progress($"decode of {DecodeTokens} tokens (round {round} of {Rounds})");
            context.Reset();
            context.Eval(prompt.AsSpan(0, DecodePromptTokens), logits);
            var decode = Stopwatch.StartNew();
            for (var i = 0; i < DecodeTokens; i++)
            {
                context.Eval([Logits.ArgMax(logits)], logits);
            }
            decodeSeconds = Math.Min(decodeSeconds, decode.Elapsed.TotalSeconds);

            progress($"measuring read bandwidth (round {round} of {Rounds})");
            probes.Add(ReadBandwidth.Measure(threadCount, 0, ProbePassesPerRound));
        }

        var best = probes.Max(p => p.BestBytesPerS);
        var worst = probes.Min(p => p.WorstBytesPerS);
        var medians = probes.Select(p => p.MedianBytesPerS).Order().ToArray();
        var median = medians[medians.Length / 2];
        // Token i of the decode attends over DecodePromptTokens + i + 1 positions.
        var meanContext = DecodePromptTokens + (DecodeTokens + 1) / 2.0;
        var bytesPerToken = model.Description.WeightBytes + (long)(model.Description.KvBytesPerToken * meanContext);
        var decodeRate = DecodeTokens / decodeSeconds;
        return new DecodeBenchResult(
            Path.GetFileName(Path.TrimEndingDirectorySeparator(modelDir)), NativeModel.CpuFeatures, threadCount,
            model.Description.WeightDtype, PrefillTokens, PrefillTokens / prefillSeconds, DecodeTokens, decodeRate,
            model.Description.WeightBytes, bytesPerToken, best, median, worst, (best - worst) / median,
            probes[0].BufferBytes, probes.Sum(p => p.PassCount), decodeRate * bytesPerToken / best);
    }
}
