using System.Diagnostics;
using Orleans.Runtime;
using OrleansLlm.Cluster.TestSilo;
using OrleansLlm.Grains;
using Xunit.Abstractions;

namespace OrleansLlm.Cluster.Tests;

/// <summary>The platform's [DevicePlacement] on two silo processes: a "silo/device" key lives on that silo or nowhere.</summary>
[Collection(ClusterCollection.Name)]
public sealed class EnginePlacementTests(RedisServer redis, ITestOutputHelper output)
{
    private static readonly TimeSpan s_responseTimeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_pinned_grain_lands_on_its_silo_and_fails_fast_without_moving_when_that_silo_is_gone()
    {
        var clusterId = $"placement-{Guid.NewGuid():N}";
        var silos = await Task.WhenAll(
            SiloProcess.StartAsync("p1", redis.ConnectionString, clusterId, TimeSpan.FromSeconds(60)),
            SiloProcess.StartAsync("p2", redis.ConnectionString, clusterId, TimeSpan.FromSeconds(60)));
        try
        {
            await using var client = await RedisClusterClient.StartAsync(redis.ConnectionString, clusterId, s_responseTimeout);
            var run = Guid.NewGuid().ToString("N")[..8];
            var onP1 = client.Client.GetGrain<IPinnedGrain>(EngineId.Create("p1", $"dev-{run}"));
            var onP2 = client.Client.GetGrain<IPinnedGrain>(EngineId.Create("p2", $"dev-{run}"));
            Assert.Equal("p1", await onP1.WhereAmI());
            Assert.Equal("p2", await onP2.WhereAmI());

            silos.Single(s => s.Name == "p2").Kill();
            await WaitUntilDeclaredDeadAsync(client.Client, "p2", TimeSpan.FromSeconds(30));

            for (var attempt = 0; attempt < 3; attempt++)
            {
                var clock = Stopwatch.StartNew();
                var error = await Assert.ThrowsAnyAsync<Exception>(() => onP2.WhereAmI());
                clock.Stop();
                output.WriteLine($"call {attempt}: {error.GetType().Name} after {clock.Elapsed.TotalMilliseconds:F0} ms: {error.Message}");
                Assert.IsType<EngineUnavailableException>(error);
                Assert.Contains("'p2'", error.Message, StringComparison.Ordinal);
                Assert.True(clock.Elapsed < s_responseTimeout / 5, $"the call took {clock.Elapsed.TotalMilliseconds:F0} ms to fail");
            }
            Assert.Equal("p1", await onP1.WhereAmI());
            var activatedOn = await redis.Connection.GetDatabase().SetMembersAsync(PinnedGrain.SilosKey(onP2.GetPrimaryKeyString()));
            Assert.Equal(["p2"], activatedOn.Select(m => m.ToString()));
        }
        finally
        {
            foreach (var silo in silos)
            {
                await silo.DisposeAsync();
            }
        }
    }

    private static async Task WaitUntilDeclaredDeadAsync(IClusterClient client, string siloName, TimeSpan timeout)
    {
        var management = client.GetGrain<IManagementGrain>(0);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            try
            {
                var hosts = await management.GetDetailedHosts(onlyActive: true);
                if (hosts.All(h => h.SiloName != siloName))
                {
                    return;
                }
            }
            catch (Exception ex) when (FailureKinds.IsClear(ex))
            {
            }
            await Task.Delay(200);
        }
        throw new TimeoutException($"silo {siloName} still active after {timeout.TotalSeconds} s");
    }
}
