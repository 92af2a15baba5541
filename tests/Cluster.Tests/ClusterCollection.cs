namespace OrleansLlm.Cluster.Tests;

/// <summary>The cluster tests share one redis-server and run one after another (they load the machine).</summary>
[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<RedisServer>
{
    public const string Name = "cluster";
}
