namespace OrleansLlm.Runtime.Tests;

/// <summary>One redis-server for the tests of the "redis" collection; each test uses its own cluster id.</summary>
public sealed class RedisFixture : IAsyncLifetime
{
    private static int s_clusters;

    public RedisServer Server { get; private set; } = null!;

    public RedisConnection Connection { get; private set; } = null!;

    public static string NewClusterId(string name) => $"{name}-{Interlocked.Increment(ref s_clusters)}-{Environment.ProcessId}";

    public async Task InitializeAsync()
    {
        Server = await RedisServer.StartAsync();
        Connection = RedisConnection.Connect(Server.Configuration);
    }

    public async Task DisposeAsync()
    {
        Connection.Dispose();
        await Server.DisposeAsync();
    }
}

[CollectionDefinition("redis")]
public sealed class RedisCollection : ICollectionFixture<RedisFixture>;
