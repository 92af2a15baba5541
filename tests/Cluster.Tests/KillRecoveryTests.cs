using System.Diagnostics;
using System.Globalization;
using OrleansLlm.Cluster.TestSilo;
using Xunit.Abstractions;

namespace OrleansLlm.Cluster.Tests;

/// <summary>Two silo processes on Redis: the silo that holds a persisted grain is SIGKILLed.</summary>
[Collection(ClusterCollection.Name)]
public sealed class KillRecoveryTests(RedisServer redis, ITestOutputHelper output)
{
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Persisted_state_serves_again_from_the_other_silo_within_five_seconds_of_a_SIGKILL()
    {
        var clusterId = $"kill-{Guid.NewGuid():N}";
        var silos = await Task.WhenAll(
            SiloProcess.StartAsync("s1", redis.ConnectionString, clusterId, s_startTimeout),
            SiloProcess.StartAsync("s2", redis.ConnectionString, clusterId, s_startTimeout));
        try
        {
            await using var client = await RedisClusterClient.StartAsync(redis.ConnectionString, clusterId, TimeSpan.FromSeconds(2));
            var grain = client.Client.GetGrain<ICounterGrain>($"kill-{Guid.NewGuid():N}");
            for (var i = 0; i < 5; i++)
            {
                await grain.Increment();
            }
            var before = await grain.Get();
            Assert.Equal(5, before.Value);
            var host = silos.Single(s => s.Name == before.Silo);

            var clock = Stopwatch.StartNew();
            host.Kill();
            CounterView? after = null;
            var failures = new List<string>();
            while (clock.Elapsed < TimeSpan.FromSeconds(30))
            {
                try
                {
                    after = await grain.Get();
                    break;
                }
                catch (Exception ex) when (FailureKinds.IsClear(ex))
                {
                    failures.Add(ex.GetType().Name);
                    await Task.Delay(50);
                }
            }
            var recovery = clock.Elapsed;

            var figure = string.Create(CultureInfo.InvariantCulture,
                $"{{\"killed_silo\":\"{host.Name}\",\"recovered_on\":\"{after?.Silo}\",\"value\":{after?.Value ?? -1},\"recovery_seconds\":{recovery.TotalSeconds:F2},\"failed_calls_meanwhile\":{failures.Count}}}");
            output.WriteLine(figure);
            output.WriteLine($"failures meanwhile: {string.Join(", ", failures.GroupBy(f => f).Select(g => $"{g.Key} x{g.Count()}"))}");
            output.WriteLine($"written to {TestPaths.WriteArtifact("kill-recovery.json", figure)}");

            Assert.NotNull(after);
            Assert.NotEqual(host.Name, after.Silo);
            Assert.Equal(5, after.Value);
            Assert.True(recovery < TimeSpan.FromSeconds(5), $"the grain took {recovery.TotalSeconds:F2} s to serve again");
        }
        finally
        {
            foreach (var silo in silos)
            {
                await silo.DisposeAsync();
            }
        }
    }
}
