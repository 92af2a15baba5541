namespace OrleansLlm.Runtime.Tests;

public sealed class RendezvousPlacementTests
{
    private static SiloRecord Silo(string name) => new($"{name}-1", name, $"http://{name}", new Dictionary<string, string>(), SiloStatus.Active, 0);

    private static Dictionary<string, string> Place(IEnumerable<string> keys, params string[] silos)
    {
        var live = silos.Select(Silo).ToList();
        return keys.ToDictionary(k => k, k => RendezvousPlacement.Instance.PlaceGrain(new PlacementContext(new GrainId("T", k), live, null)).Name);
    }

    [Fact]
    public void Spreads_grains_evenly_and_deterministically()
    {
        var keys = Enumerable.Range(0, 3000).Select(i => $"k{i}").ToList();
        var first = Place(keys, "a", "b", "c");
        Assert.Equal(first, Place(keys, "c", "a", "b"));
        foreach (var silo in new[] { "a", "b", "c" })
        {
            Assert.InRange(first.Values.Count(v => v == silo), 800, 1200);
        }
    }

    [Fact]
    public void Removing_a_silo_moves_only_its_grains()
    {
        var keys = Enumerable.Range(0, 2000).Select(i => $"g{i}").ToList();
        var before = Place(keys, "a", "b", "c", "d");
        var after = Place(keys, "a", "b", "c");
        foreach (var key in keys)
        {
            if (before[key] != "d")
            {
                Assert.Equal(before[key], after[key]);
            }
        }
        Assert.Contains(keys, k => before[k] == "d");
    }

    [Fact]
    public void Pinned_placement_picks_the_named_silo_or_fails_clearly()
    {
        var live = new List<SiloRecord> { Silo("gpu0"), Silo("gpu1") };
        Assert.Equal("gpu1", PinnedPlacement.Instance.PlaceGrain(new PlacementContext(new GrainId("E", "gpu1/engine"), live, null)).Name);
        Assert.Equal("gpu0", PinnedPlacement.Instance.PlaceGrain(new PlacementContext(new GrainId("E", "gpu0"), live, null)).Name);
        var error = Assert.Throws<NoSiloAvailableException>(() => PinnedPlacement.Instance.PlaceGrain(new PlacementContext(new GrainId("E", "gpu7/x"), live, null)));
        Assert.Contains("gpu7", error.Message);
    }

    [Fact]
    public void No_live_silo_is_a_clear_error()
    {
        Assert.Throws<NoSiloAvailableException>(() => RendezvousPlacement.Instance.PlaceGrain(new PlacementContext(new GrainId("T", "k"), [], null)));
    }
}
