using OrleansLlm.Runtime.TestSilo;
using StackExchange.Redis;

namespace OrleansLlm.Runtime.Tests;

/// <summary>Silos as separate processes, killed without warning.</summary>
[Collection("redis")]
public sealed class ProcessFaultTests(RedisFixture redis)
{
    [Fact]
    public async Task Grains_of_a_killed_silo_reactivate_elsewhere_with_their_persisted_state()
    {
        var clusterId = RedisFixture.NewClusterId("kill");
        await using var a = await SiloProcess.StartAsync(redis.Server.Configuration, clusterId, "a");
        await using var b = await SiloProcess.StartAsync(redis.Server.Configuration, clusterId, "b");
        await using var c = await SiloProcess.StartAsync(redis.Server.Configuration, clusterId, "c");
        using var oracleConnection = await ConnectionMultiplexer.ConnectAsync(redis.Server.Configuration);
        var oracle = new RedisActivationOracle(oracleConnection.GetDatabase(), $"oracle:{clusterId}:");
        await using var client = new ClusterClient(TestTimings.Cluster(clusterId), TestGrains.Registry(oracle),
            ClusterBackend.Redis(redis.Connection, clusterId, TestTimings.Lease).Store);
        await client.ConnectAsync();
        await WaitUntilAsync(() => client.LiveSilos.Count == 3, "client sees 3 silos");

        var keys = Enumerable.Range(0, 30).Select(i => $"k{i}").ToList();
        foreach (var key in keys)
        {
            var grain = client.GetGrain<ICounterGrain>(key);
            await grain.Increment();
            await grain.Increment();
            Assert.Equal(3, await grain.Increment());
        }
        var hosts = await Task.WhenAll(keys.Select(k => client.GetGrain<ICounterGrain>(k).HostSilo()));
        var onB = keys.Where((_, i) => hosts[i] == "b").ToList();
        Assert.NotEmpty(onB);

        b.Kill();
        foreach (var key in onB)
        {
            var grain = client.GetGrain<ICounterGrain>(key);
            Assert.Equal(3, await grain.Get());
            Assert.NotEqual("b", await grain.HostSilo());
            Assert.Equal(4, await grain.Increment());
            Assert.True(await oracle.ActivationsAsync(key) >= 2, $"{key} was not reactivated");
        }
        Assert.Equal(0, await oracle.DuplicatesAsync());
    }

    [Fact]
    public async Task A_paused_silo_that_resumes_never_serves_its_superseded_activations()
    {
        var clusterId = RedisFixture.NewClusterId("pause");
        await using var a = await SiloProcess.StartAsync(redis.Server.Configuration, clusterId, "a");
        await using var b = await SiloProcess.StartAsync(redis.Server.Configuration, clusterId, "b");
        using var oracleConnection = await ConnectionMultiplexer.ConnectAsync(redis.Server.Configuration);
        var oracle = new RedisActivationOracle(oracleConnection.GetDatabase(), $"oracle:{clusterId}:");
        await using var client = new ClusterClient(TestTimings.Cluster(clusterId), TestGrains.Registry(oracle),
            ClusterBackend.Redis(redis.Connection, clusterId, TestTimings.Lease).Store);
        await client.ConnectAsync();
        await WaitUntilAsync(() => client.LiveSilos.Count == 2, "client sees 2 silos");
        var keys = Enumerable.Range(0, 20).Select(i => $"p{i}").ToList();
        foreach (var key in keys)
        {
            Assert.Equal(1, await client.GetGrain<ICounterGrain>(key).Increment());
        }
        var hosts = await Task.WhenAll(keys.Select(k => client.GetGrain<ICounterGrain>(k).HostSilo()));
        var onB = keys.Where((_, i) => hosts[i] == "b").ToList();
        Assert.NotEmpty(onB);

        // b freezes with its activations in memory; after its lease lapses a takes them over. The
        // one call already sent to b fails as "outcome unknown" once b is declared dead.
        var unknown = 0;
        b.Pause();
        try
        {
            foreach (var key in onB)
            {
                try
                {
                    Assert.Equal(2, await client.GetGrain<ICounterGrain>(key).Increment());
                }
                catch (CallOutcomeUnknownException)
                {
                    unknown++;
                }
            }
        }
        finally
        {
            b.Resume();
        }
        Assert.InRange(unknown, 0, 1);

        // b wakes up believing it still hosts them; calls keep flowing while it finds out
        var values = new Dictionary<string, int>();
        foreach (var key in keys)
        {
            values[key] = await client.GetGrain<ICounterGrain>(key).Get();
            Assert.InRange(values[key], 1, 2);
        }
        var until = DateTime.UtcNow.AddSeconds(3);
        while (DateTime.UtcNow < until)
        {
            foreach (var key in keys)
            {
                Assert.Equal(++values[key], await client.GetGrain<ICounterGrain>(key).Increment());
            }
        }
        Assert.Equal(0, await oracle.DuplicatesAsync());
        Assert.False(b.HasExited);
    }

    internal static async Task WaitUntilAsync(Func<bool> condition, string what, int seconds = 20)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"timed out waiting until {what}");
            }
            await Task.Delay(50);
        }
    }
}
