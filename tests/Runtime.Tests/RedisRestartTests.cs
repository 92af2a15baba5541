using OrleansLlm.Runtime.TestSilo;

namespace OrleansLlm.Runtime.Tests;

/// <summary>Redis (with an fsync-always append-only file) goes down and comes back on the same port.</summary>
public sealed class RedisRestartTests
{
    [Fact]
    public async Task Cluster_recovers_after_redis_restarts_and_keeps_acknowledged_state()
    {
        await using var server = await RedisServer.StartAsync(persistent: true);
        using var connection = RedisConnection.Connect(server.Configuration);
        var clusterId = RedisFixture.NewClusterId("restart");
        await using var cluster = await InProcessCluster.StartAsync(ClusterBackend.Redis(connection, clusterId, TestTimings.Lease),
            TestTimings.Cluster(clusterId), "a", "b");
        var factory = cluster.Silos[0].GrainFactory;
        var keys = Enumerable.Range(0, 10).Select(i => $"r{i}").ToList();
        foreach (var key in keys)
        {
            Assert.Equal(1, await factory.GetGrain<ICounterGrain>(key).Increment());
        }

        // down for longer than a lease: every silo must drop its activations and rejoin
        await server.RestartAsync(TimeSpan.FromSeconds(4));

        foreach (var key in keys)
        {
            Assert.Equal(2, await factory.GetGrain<ICounterGrain>(key).Increment());
        }
        await cluster.WaitForMembersAsync(2);
        Assert.All(cluster.Silos, s => Assert.True(s.IsHealthy));
        Assert.Equal(0, await cluster.Oracle.DuplicatesAsync());
    }
}
