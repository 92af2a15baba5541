using System.Diagnostics;
using OrleansLlm.Native;

namespace OrleansLlm.Cli.EngineBench;

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
    double ReadBandwidthBytesPerS,
    double DecodeRooflineRatio);

/// <summary>Single-sequence prefill and decode speed against the machine's measured read bandwidth:
/// decoding one token reads every weight once, so bandwidth / weight bytes bounds tokens/s.</summary>
internal static class DecodeScenario
{
    private const int PrefillTokens = 256;
    private const int DecodeTokens = 128;
    private const int Rounds = 3;

    public static DecodeBenchResult Run(string modelDir, int threads, Action<string> progress,
        WeightQuantization weights = WeightQuantization.AsStored)
    {
        using var model = NativeModel.Load(modelDir, threads, weights: weights);
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

        // Decode and read bandwidth alternate, each bandwidth sample as long as the decode before
        // it, best of each kept: both see the same machine state for the same length of time, so a
        // noisy neighbour slows both rather than skewing the ratio.
        progress("allocating the bandwidth buffer");
        using var reader = new ReadBandwidth(threadCount);
        var decodeSeconds = double.MaxValue;
        var bandwidth = 0.0;
        for (var round = 1; round <= Rounds; round++)
        {
            progress($"decode of {DecodeTokens} tokens (round {round} of {Rounds})");
            context.Reset();
            var logits = context.Eval(prompt.AsSpan(0, 16));
            var decode = Stopwatch.StartNew();
            for (var i = 0; i < DecodeTokens; i++)
            {
                logits = context.Eval([ArgMax(logits)]);
            }
            var elapsed = decode.Elapsed;
            decodeSeconds = Math.Min(decodeSeconds, elapsed.TotalSeconds);

            progress($"measuring read bandwidth for {elapsed.TotalSeconds:F1} s (round {round} of {Rounds})");
            bandwidth = Math.Max(bandwidth, reader.Measure(elapsed));
        }

        var decodeRate = DecodeTokens / decodeSeconds;
        return new DecodeBenchResult(
            Path.GetFileName(Path.TrimEndingDirectorySeparator(modelDir)), NativeModel.CpuFeatures, threadCount,
            model.Description.WeightDtype, PrefillTokens, PrefillTokens / prefillSeconds, DecodeTokens, decodeRate,
            model.Description.WeightBytes, bandwidth, decodeRate * model.Description.WeightBytes / bandwidth);
    }

    private static int ArgMax(ReadOnlySpan<float> values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }
        return best;
    }
}
