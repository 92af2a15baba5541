using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace OrleansLlm.Grains.Diagnostics;

/// <summary>
/// The platform's metrics, named after vLLM's (<c>vllm:time_to_first_token_seconds</c> becomes
/// <c>orleansllm_time_to_first_token_seconds</c> in Prometheus text), labelled by engine and silo.
/// </summary>
public sealed class PlatformMetrics : IDisposable
{
    public const string MeterName = "OrleansLlm";
    public static readonly ActivitySource ActivitySource = new("OrleansLlm");

    private static readonly double[] s_latencyBuckets =
        [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0];

    private readonly Meter _meter = new(MeterName);
    private readonly Histogram<double> _ttft;
    private readonly Histogram<double> _tpot;
    private readonly Histogram<double> _itl;
    private readonly Histogram<double> _e2e;
    private readonly Histogram<double> _coldStart;
    private readonly Counter<long> _promptTokens;
    private readonly Counter<long> _generationTokens;
    private readonly Counter<long> _prefixQueries;
    private readonly Counter<long> _prefixHits;
    private readonly Counter<long> _requests;
    private readonly ConcurrentDictionary<string, EngineStatus> _engines = new();

    public PlatformMetrics()
    {
        var advice = new InstrumentAdvice<double> { HistogramBucketBoundaries = s_latencyBuckets };
        _ttft = _meter.CreateHistogram("orleansllm.time_to_first_token", "s", "Time to first token", advice: advice);
        _tpot = _meter.CreateHistogram("orleansllm.time_per_output_token", "s", "Mean time per output token after the first", advice: advice);
        _itl = _meter.CreateHistogram("orleansllm.inter_token_latency", "s", "Time between two output tokens", advice: advice);
        _e2e = _meter.CreateHistogram("orleansllm.e2e_request_latency", "s", "Request latency end to end", advice: advice);
        _coldStart = _meter.CreateHistogram("orleansllm.engine_cold_start", "s", "Engine activation to ready (model load)", advice: advice);
        _promptTokens = _meter.CreateCounter<long>("orleansllm.prompt_tokens", "{token}", "Prompt tokens processed");
        _generationTokens = _meter.CreateCounter<long>("orleansllm.generation_tokens", "{token}", "Tokens generated");
        _prefixQueries = _meter.CreateCounter<long>("orleansllm.prefix_cache_queries", "{token}", "Prompt tokens looked up in the prefix cache");
        _prefixHits = _meter.CreateCounter<long>("orleansllm.prefix_cache_hits", "{token}", "Prompt tokens served by the prefix cache");
        _requests = _meter.CreateCounter<long>("orleansllm.request_success", "{request}", "Finished requests by finish reason");
        _meter.CreateObservableGauge("orleansllm.kv_cache_usage_perc", () => Observe(s => s.KvUsage), "1", "Share of KV blocks in use");
        _meter.CreateObservableGauge("orleansllm.num_requests_running", () => Observe(s => s.Running), "{request}", "Requests in the running batch");
        _meter.CreateObservableGauge("orleansllm.num_requests_waiting", () => Observe(s => s.Waiting), "{request}", "Requests waiting");
    }

    public void RecordColdStart(double seconds, string engine, string silo) => _coldStart.Record(seconds, Tags(engine, silo));

    /// <summary>One finished request, as timed by the turn that drove it.</summary>
    public void RecordRequest(string engine, string silo, RequestTiming timing, int promptTokens, int cachedTokens, int generatedTokens, string finishReason)
    {
        var tags = Tags(engine, silo);
        if (timing.FirstTokenSeconds is { } ttft)
        {
            _ttft.Record(ttft, tags);
        }
        if (generatedTokens > 1 && timing.FirstTokenSeconds is { } first)
        {
            _tpot.Record((timing.TotalSeconds - first) / (generatedTokens - 1), tags);
        }
        foreach (var gap in timing.InterTokenSeconds)
        {
            _itl.Record(gap, tags);
        }
        _e2e.Record(timing.TotalSeconds, tags);
        _promptTokens.Add(promptTokens, tags);
        _generationTokens.Add(generatedTokens, tags);
        _prefixQueries.Add(promptTokens, tags);
        _prefixHits.Add(cachedTokens, tags);
        _requests.Add(1, [new("engine", engine), new("silo", silo), new("finished_reason", finishReason)]);
    }

    public void SetEngineStatus(EngineStatus status) => _engines[status.EngineId] = status;

    public void Dispose() => _meter.Dispose();

    private IEnumerable<Measurement<double>> Observe(Func<EngineStatus, double> value) =>
        _engines.Values.Select(s => new Measurement<double>(value(s), Tags(s.EngineId, s.Silo)));

    private static KeyValuePair<string, object?>[] Tags(string engine, string silo) => [new("engine", engine), new("silo", silo)];
}

/// <summary>Timestamps of one request's tokens, in seconds from its start.</summary>
public sealed class RequestTiming
{
    private readonly long _started = Stopwatch.GetTimestamp();
    private readonly List<double> _gaps = [];
    private double _last;

    public double? FirstTokenSeconds { get; private set; }

    public double TotalSeconds { get; private set; }

    public IReadOnlyList<double> InterTokenSeconds => _gaps;

    public void Token()
    {
        var now = Stopwatch.GetElapsedTime(_started).TotalSeconds;
        if (FirstTokenSeconds is null)
        {
            FirstTokenSeconds = now;
        }
        else
        {
            _gaps.Add(now - _last);
        }
        _last = now;
        TotalSeconds = now;
    }

    public void Finish() => TotalSeconds = Stopwatch.GetElapsedTime(_started).TotalSeconds;
}
