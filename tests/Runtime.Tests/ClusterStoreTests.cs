using System.Text;

namespace OrleansLlm.Runtime.Tests;

/// <summary>
/// The lease, fencing and membership rules, checked on both stores with a short lease (1 s)
/// so that lapses can be waited out.
/// </summary>
[Collection("redis")]
public sealed class ClusterStoreTests(RedisFixture redis)
{
    private static readonly TimeSpan s_lease = TimeSpan.FromMilliseconds(1000);

    public static TheoryData<string> Stores => ["redis", "memory"];

    private ClusterBackend Backend(string kind) => kind == "redis"
        ? ClusterBackend.Redis(redis.Connection, RedisFixture.NewClusterId("store"), s_lease)
        : ClusterBackend.InMemory(s_lease);

    private static SiloRecord Silo(string name) =>
        new($"{name}-{Guid.NewGuid():N}", name, $"http://{name}", new Dictionary<string, string> { ["device"] = "cpu" }, SiloStatus.Active, 0);

    // a Redis that never held cluster data refuses activations for one lease (it may have lost them)
    private static async Task WaitUntilStoreAllowsActivationsAsync(IClusterStore store)
    {
        var probe = Silo("probe");
        await store.RegisterAsync(probe, default);
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while ((await store.TryAcquireAsync(new GrainId("probe", "p"), probe.Id, default)).Status == AcquireStatus.NotAllowed)
        {
            Assert.True(DateTime.UtcNow < deadline, "the store never allowed an activation");
            await store.HeartbeatAsync(probe.Id, default);
            await Task.Delay(50);
        }
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task A_grain_is_held_by_one_silo_until_its_lease_lapses_and_old_epochs_are_fenced(string kind)
    {
        var (store, storage) = Backend(kind);
        await WaitUntilStoreAllowsActivationsAsync(store);
        var a = Silo("a");
        var b = Silo("b");
        await store.RegisterAsync(a, default);
        await store.RegisterAsync(b, default);
        var grain = new GrainId("T", "g");

        var first = await store.TryAcquireAsync(grain, a.Id, default);
        Assert.Equal(AcquireStatus.Acquired, first.Status);
        var second = await store.TryAcquireAsync(grain, b.Id, default);
        Assert.Equal(AcquireStatus.OwnedElsewhere, second.Status);
        Assert.Equal(a.Id, second.OwnerSiloId);
        Assert.Equal("http://a", second.OwnerAddress);

        var etag = await storage.WriteAsync(grain, "s", "1"u8.ToArray(), null, new ActivationFence(a.Id, first.Epoch), default);
        await Assert.ThrowsAsync<InconsistentStateException>(() =>
            storage.WriteAsync(grain, "s", "2"u8.ToArray(), null, new ActivationFence(a.Id, first.Epoch), default));

        // a stops heartbeating; b keeps going and takes the grain once a's lease lapsed
        for (var i = 0; i < 13; i++)
        {
            await Task.Delay(100);
            Assert.Equal(HeartbeatStatus.Ok, await store.HeartbeatAsync(b.Id, default));
        }
        var taken = await store.TryAcquireAsync(grain, b.Id, default);
        Assert.Equal(AcquireStatus.Acquired, taken.Status);
        Assert.Equal(first.Epoch + 1, taken.Epoch);

        // the old activation can no longer write, even with the right ETag; the new one can
        await Assert.ThrowsAsync<ActivationFencedException>(() =>
            storage.WriteAsync(grain, "s", "3"u8.ToArray(), etag, new ActivationFence(a.Id, first.Epoch), default));
        var read = await storage.ReadAsync(grain, "s", default);
        Assert.Equal("1", Encoding.UTF8.GetString(read!.Data));
        var newer = await storage.WriteAsync(grain, "s", "4"u8.ToArray(), read.Etag, new ActivationFence(b.Id, taken.Epoch), default);
        Assert.NotEqual(etag, newer);

        // a comes back: its lease lapsed, so it is told it is dead
        Assert.Equal(HeartbeatStatus.Dead, await store.HeartbeatAsync(a.Id, default));

        await storage.ClearAsync(grain, "s", newer, new ActivationFence(b.Id, taken.Epoch), default);
        Assert.Null(await storage.ReadAsync(grain, "s", default));
        await store.ReleaseAsync(grain, b.Id, taken.Epoch, default);
        var c = Silo("c");
        await store.RegisterAsync(c, default);
        Assert.Equal(AcquireStatus.Acquired, (await store.TryAcquireAsync(grain, c.Id, default)).Status);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Membership_records_capabilities_declares_silent_silos_dead_and_forgets_deregistered_ones(string kind)
    {
        var (store, _) = Backend(kind);
        var a = Silo("a");
        var b = Silo("b");
        await store.RegisterAsync(a, default);
        await store.RegisterAsync(b, default);
        var members = await store.ReadMembershipAsync(default);
        Assert.Equal("cpu", members.Silos.Single(s => s.Id == a.Id).Capabilities["device"]);
        Assert.All(members.Silos, s => Assert.Equal(SiloStatus.Active, s.Status));

        Assert.False(await store.DeclareDeadAsync(b.Id, TimeSpan.FromSeconds(10), default));
        await Task.Delay(200);
        Assert.True(await store.DeclareDeadAsync(b.Id, TimeSpan.FromMilliseconds(100), default));
        Assert.Equal(HeartbeatStatus.Dead, await store.HeartbeatAsync(b.Id, default));
        Assert.Equal(SiloStatus.Dead, (await store.ReadMembershipAsync(default)).Silos.Single(s => s.Id == b.Id).Status);

        await store.SetStatusAsync(a.Id, SiloStatus.ShuttingDown, default);
        Assert.Equal(SiloStatus.ShuttingDown, (await store.ReadMembershipAsync(default)).Silos.Single(s => s.Id == a.Id).Status);
        await store.DeregisterAsync(a.Id, default);
        Assert.DoesNotContain((await store.ReadMembershipAsync(default)).Silos, s => s.Id == a.Id);
        Assert.Equal(HeartbeatStatus.Unknown, await store.HeartbeatAsync(a.Id, default));
    }
}
