using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using OrleansLlm.Cluster.TestSilo;
using OrleansLlm.Grains;
using OrleansLlm.Grains.Engines;
using StackExchange.Redis;

namespace OrleansLlm.Cluster.Tests;

/// <summary>The in-process TestCluster's silos: Redis storage and directory named as the platform's, and the oracle.</summary>
public sealed class TestClusterSiloConfigurator : ISiloConfigurator
{
    public const string RedisProperty = "redis";

    public void Configure(ISiloBuilder siloBuilder)
    {
        var redis = siloBuilder.Configuration[RedisProperty] ?? throw new InvalidOperationException("the TestCluster needs the redis property");
        var options = ConfigurationOptions.Parse(redis);
        // connected now, not on the first activation (a synchronous connect there can starve the scheduler)
        siloBuilder.Services.AddSingleton<IConnectionMultiplexer>(ConnectionMultiplexer.Connect(redis));
        siloBuilder.Services.AddSingleton<ActivationOracle>();
        siloBuilder.AddRedisGrainStorage(PlatformNames.SessionStorage, o => o.ConfigurationOptions = options.Clone());
        siloBuilder.AddRedisGrainDirectory(PlatformNames.SessionDirectory, o => o.ConfigurationOptions = options.Clone());
        siloBuilder.AddPlacementDirector<DevicePlacement, DevicePlacementDirector>();
    }
}
