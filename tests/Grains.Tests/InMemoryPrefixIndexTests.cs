using OrleansLlm.Grains.PrefixIndex;
using OrleansLlm.Native;

namespace OrleansLlm.Grains.Tests;

public sealed class InMemoryPrefixIndexTests
{
    private static readonly BlockHash[] s_chain = BlockHash.Chain(Enumerable.Range(0, 64).ToArray(), 16, "");

    [Fact]
    public async Task A_lookup_counts_each_live_engines_leading_blocks_only()
    {
        var clock = new ManualClock();
        var index = new InMemoryPrefixIndex(clock);
        await index.HeartbeatAsync("a", TimeSpan.FromSeconds(10));
        await index.HeartbeatAsync("b", TimeSpan.FromSeconds(10));
        await index.StoreAsync("a", s_chain[..3]);
        await index.StoreAsync("b", [s_chain[0], s_chain[2], s_chain[3]]);  // a hole at block 1

        var held = await index.LookupAsync(s_chain);

        Assert.Equal(3, held["a"]);
        Assert.Equal(1, held["b"]);
    }

    [Fact]
    public async Task Removed_blocks_cut_the_run_and_a_cleared_engine_holds_nothing()
    {
        var index = new InMemoryPrefixIndex(new ManualClock());
        await index.HeartbeatAsync("a", TimeSpan.FromSeconds(10));
        await index.StoreAsync("a", s_chain);
        await index.RemoveAsync("a", [s_chain[2]]);
        Assert.Equal(2, (await index.LookupAsync(s_chain))["a"]);

        await index.ClearAsync("a");
        Assert.Empty(await index.LookupAsync(s_chain));
    }

    [Fact]
    public async Task An_engine_whose_heartbeat_expired_is_ignored()
    {
        var clock = new ManualClock();
        var index = new InMemoryPrefixIndex(clock);
        await index.HeartbeatAsync("a", TimeSpan.FromSeconds(10));
        await index.StoreAsync("a", s_chain);
        Assert.Equal(4, (await index.LookupAsync(s_chain))["a"]);

        clock.Advance(TimeSpan.FromSeconds(11));
        Assert.Empty(await index.LookupAsync(s_chain));
    }

    private sealed class ManualClock : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 12, 3, 0, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
