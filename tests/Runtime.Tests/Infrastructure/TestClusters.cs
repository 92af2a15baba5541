using OrleansLlm.Runtime.TestSilo;

namespace OrleansLlm.Runtime.Tests;

/// <summary>Timings small enough for tests, generous enough for a loaded 2-core CI machine.</summary>
public static class TestTimings
{
    public static readonly TimeSpan Lease = TimeSpan.FromSeconds(3);

    public static ClusterOptions Cluster(string clusterId, TimeSpan? callTimeout = null) => new()
    {
        ClusterId = clusterId,
        HeartbeatPeriod = TimeSpan.FromMilliseconds(300),
        DeathTimeout = TimeSpan.FromSeconds(3),
        CallTimeout = callTimeout ?? TimeSpan.FromSeconds(20),
    };
}

/// <summary>Several silos in this process, each with its own HTTP/2 endpoint, sharing one backend.</summary>
public sealed class InProcessCluster : IAsyncDisposable
{
    private InProcessCluster(string clusterId, List<Silo> silos, IActivationOracle oracle)
    {
        ClusterId = clusterId;
        Silos = silos;
        Oracle = oracle;
    }

    public string ClusterId { get; }

    public List<Silo> Silos { get; }

    public IActivationOracle Oracle { get; }

    public static async Task<InProcessCluster> StartAsync(ClusterBackend backend, ClusterOptions options, params string[] names)
    {
        var oracle = new InMemoryActivationOracle();
        var silos = new List<Silo>();
        foreach (var name in names)
        {
            var silo = new Silo(new SiloOptions { Name = name, CollectionAge = TimeSpan.FromMinutes(5) }, options, TestGrains.Registry(oracle), backend);
            await silo.StartAsync();
            silos.Add(silo);
        }
        var cluster = new InProcessCluster(options.ClusterId, silos, oracle);
        await cluster.WaitForMembersAsync(names.Length);
        return cluster;
    }

    /// <summary>Waits until every silo sees <paramref name="count"/> live silos.</summary>
    public async Task WaitForMembersAsync(int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (Silos.Any(s => s.LiveSiloCount != count))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"silos see {string.Join(",", Silos.Select(s => s.LiveSiloCount))} live silos, expected {count}");
            }
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var silo in Silos)
        {
            await silo.DisposeAsync();
        }
    }
}
