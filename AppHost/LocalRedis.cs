namespace OrleansLlm.AppHost;

/// <summary>
/// redis-server as an executable resource: these machines have no container runtime, so Aspire's
/// AddRedis (a container) would never become healthy. Its own port, its own data folder, AOF on.
/// </summary>
public static class LocalRedisExtensions
{
    public static IResourceBuilder<ExecutableResource> AddLocalRedis(this IDistributedApplicationBuilder builder, int port, string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        return builder.AddExecutable("redis-server", "redis-server", dataDirectory,
            "--port", port.ToString(), "--bind", "127.0.0.1", "--dir", dataDirectory, "--appendonly", "yes", "--save", "");
    }
}
