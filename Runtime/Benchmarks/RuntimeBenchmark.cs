using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace OrleansLlm.Runtime.Benchmarks;

public sealed record CallFigures(int Concurrency, double CallsPerSecond, double P50Microseconds, double P99Microseconds, long Calls);

public sealed record RuntimeBenchmarkResult(
    string Store,
    double SecondsPerScenario,
    CallFigures LocalUnloaded,
    CallFigures Local,
    CallFigures RemoteUnloaded,
    CallFigures Remote,
    double StreamItemsPerSecondAcrossSilos,
    long StreamItems);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(RuntimeBenchmarkResult))]
internal sealed partial class RuntimeBenchmarkJson : JsonSerializerContext;

/// <summary>
/// Two silos in this process, each with its own HTTP/2 endpoint on loopback: calls from silo a
/// to grains on a (local) and on b (remote), at concurrency 1 and <c>concurrency</c>, and one
/// stream from b to a.
/// </summary>
public static class RuntimeBenchmark
{
    public static async Task<RuntimeBenchmarkResult> RunAsync(TimeSpan perScenario, int concurrency, string? redisConfiguration, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(concurrency, 1);
        using var redis = redisConfiguration is null ? null : RedisConnection.Connect(redisConfiguration);
        var clusterId = $"bench-{Environment.ProcessId}-{DateTime.UtcNow.Ticks:x}";
        var backend = redis is null ? ClusterBackend.InMemory() : ClusterBackend.Redis(redis, clusterId);
        var options = new ClusterOptions { ClusterId = clusterId, HeartbeatPeriod = TimeSpan.FromMilliseconds(500) };
        var registry = new GrainRegistry()
            .AddInterface<IBenchGrain>(r => new BenchGrainProxy(r))
            .AddGrain<IBenchGrain, BenchGrain>(_ => new BenchGrain());
        await using var a = new Silo(new SiloOptions { Name = "a" }, options, registry, backend);
        await using var b = new Silo(new SiloOptions { Name = "b" }, options, registry, backend);
        await a.StartAsync(cancellationToken);
        await b.StartAsync(cancellationToken);
        while (a.LiveSiloCount < 2)
        {
            await Task.Delay(50, cancellationToken);
        }
        var factory = a.GrainFactory;

        var grains = new Dictionary<string, IBenchGrain[]>
        {
            ["a"] = [.. Enumerable.Range(0, 64).Select(i => factory.GetGrain<IBenchGrain>($"a/{i}"))],
            ["b"] = [.. Enumerable.Range(0, 64).Select(i => factory.GetGrain<IBenchGrain>($"b/{i}"))],
        };
        // warm-up: activations, connections, JIT
        foreach (var grain in grains.Values.SelectMany(g => g))
        {
            await grain.Echo(0);
        }
        await RunCallsAsync(grains["b"], concurrency, TimeSpan.FromSeconds(1), cancellationToken);

        var localUnloaded = await RunCallsAsync(grains["a"], 1, perScenario, cancellationToken);
        var local = await RunCallsAsync(grains["a"], concurrency, perScenario, cancellationToken);
        var remoteUnloaded = await RunCallsAsync(grains["b"], 1, perScenario, cancellationToken);
        var remote = await RunCallsAsync(grains["b"], concurrency, perScenario, cancellationToken);

        var stream = factory.GetGrain<IBenchGrain>("b/stream");
        long items = 0;
        var watch = Stopwatch.StartNew();
        using (var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            limit.CancelAfter(perScenario);
            try
            {
                await foreach (var item in stream.Stream(int.MaxValue, limit.Token))
                {
                    items++;
                }
            }
            catch (OperationCanceledException) when (limit.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                // the scenario's time is up
            }
        }
        var streamRate = items / watch.Elapsed.TotalSeconds;

        return new RuntimeBenchmarkResult(redis is null ? "in-memory" : "redis", perScenario.TotalSeconds,
            localUnloaded, local, remoteUnloaded, remote, Math.Round(streamRate), items);
    }

    public static string ToJson(RuntimeBenchmarkResult result) => JsonSerializer.Serialize(result, RuntimeBenchmarkJson.Default.RuntimeBenchmarkResult);

    private static async Task<CallFigures> RunCallsAsync(IBenchGrain[] grains, int concurrency, TimeSpan duration, CancellationToken cancellationToken)
    {
        var latencies = new List<double>[concurrency];
        var watch = Stopwatch.StartNew();
        var deadline = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(worker => Task.Run(async () =>
        {
            var mine = latencies[worker] = new List<double>(1 << 16);
            var i = worker;
            while (Stopwatch.GetTimestamp() < deadline && !cancellationToken.IsCancellationRequested)
            {
                var started = Stopwatch.GetTimestamp();
                await grains[i++ % grains.Length].Echo(i);
                mine.Add(Stopwatch.GetElapsedTime(started).TotalMicroseconds);
            }
        }, cancellationToken)));
        var elapsed = watch.Elapsed.TotalSeconds;
        var all = latencies.SelectMany(l => l).ToArray();
        Array.Sort(all);
        return new CallFigures(concurrency, Math.Round(all.Length / elapsed), Percentile(all, 0.50), Percentile(all, 0.99), all.Length);
    }

    private static double Percentile(double[] sorted, double fraction) =>
        sorted.Length == 0 ? 0 : Math.Round(sorted[Math.Min(sorted.Length - 1, (int)(sorted.Length * fraction))], 1);
}
