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
    public async Task Calls_that_reach_the_wrong_silo_are_redirected_to_the_single_activation()
    {
        await using var cluster = await StartAsync("redirect", "a", "b", "c");
        // every silo wants to place the grain on itself; the directory lease makes one win
        var hosts = await Task.WhenAll(Enumerable.Range(0, 300).Select(i =>
            cluster.Silos[i % 3].GrainFactory.GetGrain<ILocalFirstGrain>($"w{i % 5}").HostSilo()));
        for (var g = 0; g < 5; g++)
        {
            Assert.Single(hosts.Where((_, i) => i % 5 == g).Distinct());
        }
        Assert.Equal(5, cluster.Silos.Sum(s => s.ActivationCount));
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

        // an exception in the middle of a remote stream arrives after the items sent before it
        var received = new List<int>();
        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () =>
        {
            await foreach (var item in grain.FailAfter(3))
            {
                received.Add(item);
            }
        });
        Assert.Equal([0, 1, 2], received);
        Assert.Contains("stream failed on purpose", error.Message);

        // back-pressure: a reader that stops reading stops the producer after a bounded amount
        var slow = client.GetGrain<IStreamGrain>("s2");
        using var cts = new CancellationTokenSource();
        var enumerator = slow.Range(50_000_000, 0, cts.Token).GetAsyncEnumerator();
        for (var i = 0; i < 10; i++)
        {
            Assert.True(await enumerator.MoveNextAsync());
            Assert.Equal(i, enumerator.Current);
        }
        // wait until the producer has filled the pipes and stopped
        var producedWhileStalled = await slow.Produced();
        for (var check = 0; check < 30; check++)
        {
            await Task.Delay(300);
            var now = await slow.Produced();
            if (now == producedWhileStalled)
            {
                break;
            }
            producedWhileStalled = now;
        }
        await Task.Delay(300);
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
        // it deregistered: the others stop seeing it at their next membership read
        await ProcessFaultTests.WaitUntilAsync(() => cluster.Silos[0].LiveSiloCount == 1, "silo a sees b gone", 5);
        foreach (var key in keys)
        {
            Assert.Equal(2, await factory.GetGrain<ICounterGrain>(key).Increment());
            Assert.Equal("a", await factory.GetGrain<ICounterGrain>(key).HostSilo());
        }
        Assert.Equal(0, await cluster.Oracle.DuplicatesAsync());
    }

    [Fact]
    public async Task A_silo_declared_dead_is_told_so_drops_its_grains_and_rejoins_as_a_new_incarnation()
    {
        var id = RedisFixture.NewClusterId("dead");
        var backend = ClusterBackend.Redis(redis.Connection, id, TestTimings.Lease);
        await using var cluster = await InProcessCluster.StartAsync(backend, TestTimings.Cluster(id), "a", "b");
        var a = cluster.Silos[0];
        var grain = a.GrainFactory.GetGrain<IPinnedGrain>("a/x");
        Assert.Equal("a", await grain.HostSilo());
        var counter = cluster.Silos[1].GrainFactory.GetGrain<ICounterGrain>("pinned-to-nothing");
        Assert.Equal(1, await counter.Increment());
        var oldId = a.Id;

        Assert.True(await backend.Store.DeclareDeadAsync(oldId, TimeSpan.Zero, default));
        await ProcessFaultTests.WaitUntilAsync(() => a.Id != oldId, "silo a rejoins", 10);

        Assert.Equal("a", await grain.HostSilo());
        Assert.Equal(2, await counter.Increment());
        Assert.Equal(0, await cluster.Oracle.DuplicatesAsync());
        var members = await backend.Store.ReadMembershipAsync(default);
        Assert.Equal(SiloStatus.Dead, members.Silos.Single(s => s.Id == oldId).Status);
        Assert.Equal(SiloStatus.Active, members.Silos.Single(s => s.Id == a.Id).Status);
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
