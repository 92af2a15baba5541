namespace OrleansLlm.Runtime;

/// <summary>Where a cluster keeps its membership, directory and (default) grain state.</summary>
public sealed record ClusterBackend(IClusterStore Store, IGrainStorage Storage)
{
    public static readonly TimeSpan DefaultLeaseDuration = TimeSpan.FromSeconds(6);

    /// <summary>Embedded mode: everything in this process (silos of this process may share it).</summary>
    public static ClusterBackend InMemory(TimeSpan? leaseDuration = null)
    {
        var store = new InMemoryClusterStore(leaseDuration ?? DefaultLeaseDuration);
        return new ClusterBackend(store, new InMemoryGrainStorage(store));
    }

    /// <summary>Redis: membership, directory leases and grain state under keys prefixed with the cluster id.</summary>
    public static ClusterBackend Redis(RedisConnection redis, string clusterId, TimeSpan? leaseDuration = null)
    {
        var lease = leaseDuration ?? DefaultLeaseDuration;
        return new ClusterBackend(new RedisClusterStore(redis, clusterId, lease), new RedisGrainStorage(redis, clusterId, lease));
    }
}
