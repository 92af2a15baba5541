using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using OrleansLlm.Grains;
using OrleansLlm.Grains.Engines;
using StackExchange.Redis;

namespace OrleansLlm.Cli.ClusterBench;

/// <summary>
/// Two silos in this process (localhost clustering, the second joining the first; or Redis
/// clustering) and a client; grain calls within a silo and across silos, and a stream across silos.
/// </summary>
internal static class ClusterBenchRunner
{
    private const string SiloA = "bench-a";
    private const string SiloB = "bench-b";

    public static async Task<ClusterBenchResult> RunAsync(string? redis, int calls, int concurrency, int streamItems, Action<string> progress)
    {
        var clusterId = $"bench-{Guid.NewGuid():N}";
        var (siloPortA, gatewayA) = (FreePorts.Next(), FreePorts.Next());
        var (siloPortB, gatewayB) = (FreePorts.Next(), FreePorts.Next());
        progress($"starting silos {SiloA} and {SiloB} ({(redis is null ? "localhost" : "redis")} clustering)");
        using var hostA = BuildSilo(SiloA, clusterId, redis, siloPortA, gatewayA, primary: null);
        await hostA.StartAsync();
        using var hostB = BuildSilo(SiloB, clusterId, redis, siloPortB, gatewayB, primary: new IPEndPoint(IPAddress.Loopback, siloPortA));
        await hostB.StartAsync();
        using var clientHost = BuildClient(clusterId, redis, gatewayA, gatewayB);
        await clientHost.StartAsync();
        try
        {
            var client = clientHost.Services.GetRequiredService<IClusterClient>();
            var caller = client.GetGrain<IBenchCallerGrain>(EngineId.Create(SiloA, "caller"));
            progress("warming up");
            await caller.Call(SiloA, Math.Min(calls, 2000), concurrency);
            await caller.Call(SiloB, Math.Min(calls, 2000), concurrency);
            await ClientCallsAsync(client, Math.Min(calls, 2000), concurrency);
            await caller.Stream(SiloB, streamItems);

            progress("grain calls within a silo");
            var withinSequential = Figures(await caller.Call(SiloA, Math.Min(calls, 5000), 1), 1);
            var within = Figures(await caller.Call(SiloA, calls, concurrency), concurrency);
            progress("grain calls across silos");
            var acrossSequential = Figures(await caller.Call(SiloB, Math.Min(calls, 5000), 1), 1);
            var across = Figures(await caller.Call(SiloB, calls, concurrency), concurrency);
            progress("client calls to grains on both silos");
            var fromClient = Figures(await ClientCallsAsync(client, calls, concurrency), concurrency);
            progress("streams");
            var streamWithin = StreamFiguresOf(await caller.Stream(SiloA, streamItems));
            var streamAcross = StreamFiguresOf(await caller.Stream(SiloB, streamItems));
            return new ClusterBenchResult(
                redis is null ? "localhost" : "redis", 2, CpuModel(), Environment.ProcessorCount,
                withinSequential, within, acrossSequential, across, fromClient, streamWithin, streamAcross);
        }
        finally
        {
            await clientHost.StopAsync();
            await hostB.StopAsync();
            await hostA.StopAsync();
        }
    }

    /// <summary>The client calls target grains pinned alternately to each silo.</summary>
    private static async Task<CallSample> ClientCallsAsync(IClusterClient client, int calls, int concurrency)
    {
        var perLoop = calls / concurrency;
        var latencies = new double[perLoop * concurrency];
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async loop =>
        {
            var target = client.GetGrain<IBenchTargetGrain>(EngineId.Create(loop % 2 == 0 ? SiloA : SiloB, $"client-target{loop}"));
            for (var i = 0; i < perLoop; i++)
            {
                var started = Stopwatch.GetTimestamp();
                await target.Ping(i);
                latencies[(loop * perLoop) + i] = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
            }
        }));
        return new CallSample(clock.Elapsed.TotalSeconds, latencies);
    }

    private static IHost BuildSilo(string name, string clusterId, string? redis, int siloPort, int gatewayPort, IPEndPoint? primary) =>
        new HostBuilder()
            .ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Warning))
            .UseOrleans(silo =>
            {
                silo.Configure<SiloOptions>(o => o.SiloName = name);
                silo.Configure<ClusterOptions>(o =>
                {
                    o.ClusterId = clusterId;
                    o.ServiceId = "orleansllm-bench";
                });
                if (redis is null)
                {
                    silo.UseLocalhostClustering(siloPort, gatewayPort, primary, "orleansllm-bench", clusterId);
                }
                else
                {
                    silo.ConfigureEndpoints(IPAddress.Loopback, siloPort, gatewayPort);
                    silo.UseRedisClustering(o => o.ConfigurationOptions = ConfigurationOptions.Parse(redis));
                }
                silo.AddPlacementDirector<DevicePlacement, DevicePlacementDirector>();
            })
            .Build();

    private static IHost BuildClient(string clusterId, string? redis, int gatewayA, int gatewayB) =>
        new HostBuilder()
            .ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Warning))
            .UseOrleansClient(client =>
            {
                if (redis is null)
                {
                    client.UseLocalhostClustering([gatewayA, gatewayB], "orleansllm-bench", clusterId);
                }
                else
                {
                    client.Configure<ClusterOptions>(o =>
                    {
                        o.ClusterId = clusterId;
                        o.ServiceId = "orleansllm-bench";
                    });
                    client.UseRedisClustering(o => o.ConfigurationOptions = ConfigurationOptions.Parse(redis));
                }
            })
            .Build();

    private static CallFigures Figures(CallSample sample, int concurrency)
    {
        var sorted = sample.LatenciesMicroseconds.Order().ToArray();
        return new CallFigures(
            sorted.Length, concurrency, Math.Round(sorted.Length / sample.ElapsedSeconds, 0),
            Math.Round(Percentiles.Of(sorted, 50), 1), Math.Round(Percentiles.Of(sorted, 99), 1));
    }

    private static StreamFigures StreamFiguresOf(StreamSample sample) =>
        new(sample.Items, Math.Round(sample.Items / sample.ElapsedSeconds, 0), Math.Round(sample.ElapsedSeconds, 4));

    /// <summary>The CPU's model name, and whether it has AVX-512 (from /proc/cpuinfo).</summary>
    private static string CpuModel()
    {
        try
        {
            var lines = File.ReadAllLines("/proc/cpuinfo");
            var model = lines.FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";
            var flags = lines.FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal)) ?? "";
            return $"{model} ({(flags.Contains("avx512f", StringComparison.Ordinal) ? "avx512" : "no avx512")})";
        }
        catch (IOException)
        {
            return "unknown";
        }
    }
}
