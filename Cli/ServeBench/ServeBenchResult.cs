using System.Text.Json.Serialization;

namespace OrleansLlm.Cli.ServeBench;

/// <summary>Mean and percentiles of one latency, in milliseconds.</summary>
internal sealed record LatencyStats(int Count, double Mean, double P50, double P90, double P99, double Max);

/// <summary>The figures of one routing policy's run of the workload.</summary>
internal sealed record ServeBenchRun(
    string Routing,
    int Completed,
    int Failed,
    double DurationS,
    double RequestThroughput,
    double OutputThroughput,
    long TotalPromptTokens,
    long TotalCachedTokens,
    long TotalOutputTokens,
    double PrefixHitRate,
    LatencyStats TtftMs,
    LatencyStats TpotMs,
    LatencyStats ItlMs,
    LatencyStats E2eMs,
    /// <summary>TTFT of each turn number (1-based) over every session, multi-turn only.</summary>
    LatencyStats[] TtftMsByTurn,
    /// <summary>TTFT of turns 2.. (those that can reuse the session's KV prefix), multi-turn only.</summary>
    LatencyStats TtftMsLaterTurns,
    /// <summary>Prefix hit rate of each turn number, multi-turn only.</summary>
    double[] PrefixHitRateByTurn,
    /// <summary>Turns (after a session's first) that ran on another engine than the session's previous turn; -1: unknown.</summary>
    int EngineSwitches,
    /// <summary>Requests per engine (from the session's last engine after each turn), multi-turn only.</summary>
    Dictionary<string, int> RequestsByEngine,
    string[] Errors);

/// <summary>`orleansllm bench serve` output: the workload, each policy's run, and the ratios between them.</summary>
internal sealed record ServeBenchResult(
    string Url,
    string Model,
    string Dataset,
    int Sessions,
    int Turns,
    string RequestRate,
    double ThinkTimeS,
    int SystemPromptTokens,
    int UserTokens,
    int MaxTokens,
    int Seed,
    int MaxConcurrency,
    ServeBenchRun[] Runs,
    double? TtftP90RatioRandomOverKvAware,
    double? TtftP50RatioRandomOverKvAware,
    double? TtftP99RatioRandomOverKvAware,
    double? E2eP90RatioRandomOverKvAware,
    /// <summary>The same p90 ratio over turns 2.. only (the first turn is a cold prefill under either policy).</summary>
    double? LaterTurnsTtftP90RatioRandomOverKvAware);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(ServeBenchResult))]
internal sealed partial class ServeBenchJson : JsonSerializerContext;
