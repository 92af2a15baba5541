using System.Text.Json.Serialization;

namespace OrleansLlm.Cli.ClusterBench;

/// <summary>Calls per second with a given number of concurrent callers, and the latency of each call.</summary>
public sealed record CallFigures(int Calls, int Concurrency, double CallsPerSecond, double P50Us, double P99Us);

public sealed record StreamFigures(int Items, double ItemsPerSecond, double Seconds);

/// <summary>What `orleansllm bench cluster --json` prints.</summary>
public sealed record ClusterBenchResult(
    string Clustering,
    int Silos,
    string Cpu,
    int Cores,
    CallFigures WithinSiloSequential,
    CallFigures WithinSilo,
    CallFigures AcrossSilosSequential,
    CallFigures AcrossSilos,
    CallFigures ClientToSilos,
    StreamFigures StreamWithinSilo,
    StreamFigures StreamAcrossSilos);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(ClusterBenchResult))]
internal sealed partial class ClusterBenchJson : JsonSerializerContext;
