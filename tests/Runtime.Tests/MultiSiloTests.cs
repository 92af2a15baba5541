using OrleansLlm.Runtime.TestSilo;

namespace OrleansLlm.Runtime.Tests;

/// <summary>Several silos in this process, each on its own HTTP/2 port, on a real Redis.</summary>
[Collection("redis")]
public sealed class MultiSiloTests(RedisFixture redis)
{
    private async Task<InProcessCluster> StartAsync(string name, params string[] silos)
    {
        var id = RedisFixture.NewClusterId(name);
        return await InProcessCluster.StartAsync(ClusterBackend.Redis(redis.Connection, id, TestTimings.Lease), TestTimings.Cluster(id), silos);
    }

    [Fact]
    public async Task Calls_between_silos_return_results_and_exceptions()
    {
        await using var cluster = await StartAsync("remote", "a", "b");
        var fromA = cluster.Silos[0].GrainFactory;
        Assert.Equal("b", await fromA.GetGrain<IPinnedGrain>("b").HostSilo());
        Assert.Equal("a", await fromA.GetGrain<IPinnedGrain>("a/engine-0").HostSilo());
        var counters = Enumerable.Range(0, 20).Select(i => fromA.GetGrain<ICounterGrain>($"c{i}")).ToList();
        var hosts = await Task.WhenAll(counters.Select(c => c.HostSilo()));
        Assert.Contains("a", hosts);
        Assert.Contains("b", hosts);
        var remoteKey = $"c{Array.IndexOf(hosts, "b")}";
        var remote = fromA.GetGrain<ICounterGrain>(remoteKey);
        Assert.Equal(1, await remote.Increment());
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => remote.Fail("remote boom"));
        Assert.Equal("remote boom", error.Message);
        // a grain is reachable under the same activation from every silo
        Assert.Equal(2, await cluster.Silos[1].GrainFactory.GetGrain<ICounterGrain>(remoteKey).Increment());
    }

    [Fact]
    public async Task Concurrent_calls_from_three_silos_activate_each_grain_exactly_once()
    {
        await using var cluster = await StartAsync("dup", "a", "b", "c");
        var calls = Enumerable.Range(0, 1000).Select(i =>
            cluster.Silos[i % 3].GrainFactory.GetGrain<ICounterGrain>($"g{i % 10}").Increment()).ToList();
        var results = await Task.WhenAll(calls);
        for (var g = 0; g < 10; g++)
        {
            Assert.Equal(1, await cluster.Oracle.ActivationsAsync($"g{g}"));
            var acknowledged = results.Where((_, i) => i % 10 == g).OrderBy(v => v).ToList();
            // every increment was acknowledged once, with distinct values 1..100: nothing lost or doubled
            Assert.Equal(Enumerable.Range(1, 100), acknowledged);
            Assert.Equal(100, await cluster.Silos[0].GrainFactory.GetGrain<ICounterGrain>($"g{g}").Get());
        }
        Assert.Equal(0, await cluster.Oracle.DuplicatesAsync());
        Assert.Equal(10, cluster.Silos.Sum(s => s.ActivationCount));
    }

    [Fact]
    public async Task Pinned_and_custom_placement_choose_the_silo()
    {
        await using var cluster = await StartAsync("placement", "a", "b", "c");
        foreach (var silo in cluster.Silos)
        {
            Assert.Equal("c", await silo.GrainFactory.GetGrain<IDirectedGrain>($"d-{silo.Name}").HostSilo());
            Assert.Equal("b", await silo.GrainFactory.GetGrain<IPinnedGrain>("b/x").HostSilo());
        }
        await Assert.ThrowsAsync<NoSiloAvailableException>(() => cluster.Silos[0].GrainFactory.GetGrain<IPinnedGrain>("nosuchsilo").HostSilo());
    }

    [Fact]
    public async Task Client_streams_across_silos_with_back_pressure_and_cancellation()
    {
        await using var cluster = await StartAsync("stream", "a", "b");
        await using var client = await ConnectClientAsync(cluster);
        var grain = client.GetGrain<IStreamGrain>("s1");
        var sum = 0L;
        await foreach (var item in grain.Range(5000, 0, default))
        {
            sum += item;
        }
        Assert.Equal(5000L * 4999 / 2, sum);

        // back-pressure: a reader that stops reading stops the producer after a bounded amount
        var slow = client.GetGrain<IStreamGrain>("s2");
        using var cts = new CancellationTokenSource();
        var enumerator = slow.Range(50_000_000, 0, cts.Token).GetAsyncEnumerator();
        for (var i = 0; i < 10; i++)
        {
            Assert.True(await enumerator.MoveNextAsync());
            Assert.Equal(i, enumerator.Current);
        }
        await Task.Delay(1000);
        var producedWhileStalled = await slow.Produced();
        await Task.Delay(500);
        Assert.Equal(producedWhileStalled, await slow.Produced());
        Assert.InRange(producedWhileStalled, 10, 1_000_000);
        Assert.False(await slow.SawCancellation());
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await enumerator.MoveNextAsync());
        await enumerator.DisposeAsync();
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (!await slow.SawCancellation() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
        Assert.True(await slow.SawCancellation());
    }

    [Fact]
    public async Task Graceful_shutdown_moves_grains_with_their_state()
    {
        await using var cluster = await StartAsync("shutdown", "a", "b");
        var factory = cluster.Silos[0].GrainFactory;
        var onB = Enumerable.Range(0, 30).Select(i => $"m{i}").ToList();
        var hosts = await Task.WhenAll(onB.Select(k => factory.GetGrain<ICounterGrain>(k).HostSilo()));
        var keys = onB.Where((_, i) => hosts[i] == "b").ToList();
        Assert.NotEmpty(keys);
        foreach (var key in keys)
        {
            Assert.Equal(1, await factory.GetGrain<ICounterGrain>(key).Increment());
        }
        await cluster.Silos[1].StopAsync();
        foreach (var key in keys)
        {
            Assert.Equal(2, await factory.GetGrain<ICounterGrain>(key).Increment());
            Assert.Equal("a", await factory.GetGrain<ICounterGrain>(key).HostSilo());
        }
        Assert.Equal(0, await cluster.Oracle.DuplicatesAsync());
    }

    private async Task<ClusterClient> ConnectClientAsync(InProcessCluster cluster)
    {
        var clusterId = cluster.ClusterId;
        var client = new ClusterClient(TestTimings.Cluster(clusterId), TestGrains.Registry(cluster.Oracle),
            ClusterBackend.Redis(redis.Connection, clusterId, TestTimings.Lease).Store);
        await client.ConnectAsync();
        return client;
    }
}
