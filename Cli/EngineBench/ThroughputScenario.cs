using System.Diagnostics;
using System.Text.Json.Serialization;
using OrleansLlm.Native;

namespace OrleansLlm.Cli.EngineBench;

internal sealed record ThroughputBenchResult(
    string Model,
    string CpuFeatures,
    int Threads,
    int Requests,
    int MaxRunningRequests,
    int MaxBatchedTokens,
    long PromptTokens,
    long OutputTokens,
    double ElapsedS,
    double OutputTokensPerS,
    double SequentialElapsedS,
    double SequentialOutputTokensPerS,
    double BatchingSpeedup,
    double KvWasteRatio,
    long PeakKvSlotsAllocated,
    long Preemptions,
    double DecodeStepTokensPerS,
    double SequentialDecodeStepTokensPerS,
    double DecodeBatchingSpeedup);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(ThroughputBenchResult))]
internal sealed partial class ThroughputBenchJson : JsonSerializerContext;

/// <summary>
/// Continuous batching against one request at a time: 64 requests with random prompts of
/// 64–512 tokens and 64–256 output tokens (greedy, ignore_eos), 32 running at once; then the same
/// requests one by one on the same engine. KV waste is read at the step with the most allocated slots.
/// Both passes include every prompt's prefill; the decode_* figures time only the steps that held
/// decodes alone, where batching is what changes.
/// </summary>
internal static class ThroughputScenario
{
    private const int RequestCount = 64;
    private const int MaxRunning = 32;
    private const int MaxBatchedTokens = 512;

    public static ThroughputBenchResult Run(string modelDir, int threads, Action<string> progress,
        WeightQuantization weights = WeightQuantization.AsStored, KvCacheType kvCache = KvCacheType.ModelDefault) =>
        RunAsync(modelDir, threads, progress, weights, kvCache).GetAwaiter().GetResult();

    private static async Task<ThroughputBenchResult> RunAsync(string modelDir, int threads, Action<string> progress, WeightQuantization weights, KvCacheType kvCache)
    {
        using var model = NativeModel.Load(modelDir, threads, weights: weights, kvCache: kvCache);
        var random = new Random(20261122);
        var vocab = model.Description.VocabSize;
        var requests = Enumerable.Range(0, RequestCount)
            .Select(_ => (Prompt: Enumerable.Range(0, random.Next(64, 513)).Select(_ => random.Next(vocab)).ToArray(),
                          OutputTokens: random.Next(64, 257)))
            .ToArray();
        var maxTokensPerRequest = requests.Max(r => r.Prompt.Length + r.OutputTokens);
        // Room for every running request at its longest, plus a block each of slack: no preemption
        // needed (any that happens anyway is reported).
        var kvBytes = (long)MaxRunning * (maxTokensPerRequest + 16) * model.Description.KvBytesPerToken;
        // Random prompts share nothing; caching off keeps the sequential pass from hitting the batched pass's blocks.
        using var engine = new NativeEngine(model, new EngineOptions
        {
            KvCacheBytes = kvBytes,
            MaxRunningRequests = MaxRunning,
            MaxBatchedTokens = MaxBatchedTokens,
            EnablePrefixCaching = false,
            ThreadCount = threads,
        });

        progress("warming up");
        await Generate(engine, requests[0].Prompt[..16], 4);

        long peakSlots = 0, peakStored = 0;
        var decodeSteps = new DecodeStepMeter();
        engine.StepCompleted += step =>
        {
            decodeSteps.Add(step);
            var s = engine.GetStats();
            if (s.KvSlotsAllocated > peakSlots)
            {
                peakSlots = s.KvSlotsAllocated;
                peakStored = s.KvTokensStored;
            }
        };
        var before = engine.GetStats();
        progress($"{RequestCount} requests, {MaxRunning} running at once");
        var batched = Stopwatch.StartNew();
        var counts = await Task.WhenAll(requests.Select(r => Generate(engine, r.Prompt, r.OutputTokens)));
        var batchedSeconds = batched.Elapsed.TotalSeconds;
        var outputTokens = counts.Sum(c => (long)c);
        var preemptions = engine.GetStats().PreemptionCount - before.PreemptionCount;
        var batchedDecodeRate = decodeSteps.TokensPerSecond;
        decodeSteps.Reset();

        progress("the same requests one at a time");
        var sequential = Stopwatch.StartNew();
        long sequentialTokens = 0;
        foreach (var r in requests)
        {
            sequentialTokens += await Generate(engine, r.Prompt, r.OutputTokens);
        }
        var sequentialSeconds = sequential.Elapsed.TotalSeconds;
        var sequentialDecodeRate = decodeSteps.TokensPerSecond;

        var rate = outputTokens / batchedSeconds;
        var sequentialRate = sequentialTokens / sequentialSeconds;
        return new ThroughputBenchResult(
            Path.GetFileName(Path.TrimEndingDirectorySeparator(modelDir)),
            NativeModel.CpuFeatures,
            threads > 0 ? threads : Environment.ProcessorCount,
            RequestCount,
            MaxRunning,
            MaxBatchedTokens,
            requests.Sum(r => (long)r.Prompt.Length),
            outputTokens,
            Math.Round(batchedSeconds, 3),
            Math.Round(rate, 2),
            Math.Round(sequentialSeconds, 3),
            Math.Round(sequentialRate, 2),
            Math.Round(rate / sequentialRate, 3),
            peakSlots == 0 ? 0.0 : Math.Round((double)(peakSlots - peakStored) / peakSlots, 5),
            peakSlots,
            preemptions,
            Math.Round(batchedDecodeRate, 2),
            Math.Round(sequentialDecodeRate, 2),
            Math.Round(batchedDecodeRate / sequentialDecodeRate, 3));
    }

    /// <summary>Tokens per second of the native steps that held decodes only (no prompt tokens).</summary>
    private sealed class DecodeStepMeter
    {
        private readonly Lock _lock = new();
        private long _tokens;
        private TimeSpan _time;

        public double TokensPerSecond
        {
            get
            {
                lock (_lock)
                {
                    return _time == TimeSpan.Zero ? 0.0 : _tokens / _time.TotalSeconds;
                }
            }
        }

        public void Add(EngineStepInfo step)
        {
            if (!step.IsDecodeOnly)
            {
                return;
            }
            lock (_lock)
            {
                _tokens += step.ScheduledTokens;
                _time += step.Duration;
            }
        }

        public void Reset()
        {
            lock (_lock)
            {
                _tokens = 0;
                _time = TimeSpan.Zero;
            }
        }
    }

    private static async Task<int> Generate(NativeEngine engine, int[] prompt, int outputTokens)
    {
        var sampling = SamplingOptions.Greedy(outputTokens) with { IgnoreEos = true };
        var count = 0;
        await foreach (var _ in engine.GenerateAsync(prompt, sampling))
        {
            count++;
        }
        return count;
    }
}
