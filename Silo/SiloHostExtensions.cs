using System.Net;
using Orleans.Configuration;
using Orleans.Dashboard;
using OrleansLlm.Grains;
using OrleansLlm.Grains.Hosting;
using OrleansLlm.Grains.PrefixIndex;
using StackExchange.Redis;

namespace OrleansLlm.Silo;

/// <summary>The silo host: the same code for a cluster on Redis and for the one-process mode.</summary>
public static class SiloHostExtensions
{
    public static WebApplicationBuilder AddOrleansLlmSilo(this WebApplicationBuilder builder)
    {
        var settings = builder.Configuration.GetSection(ClusterSettings.Section).Get<ClusterSettings>() ?? new();
        var siloName = settings.SiloName ?? $"silo-{Environment.ProcessId}";
        if (settings.Mode == ClusterMode.Redis)
        {
            var redis = builder.Configuration.GetConnectionString("redis")
                ?? throw new InvalidOperationException("Cluster:Mode is Redis but ConnectionStrings:redis is not set");
            // connected now: a grain must never block its activation on the first connect
            var connection = ConfigurationOptions.Parse(redis);
            connection.AbortOnConnectFail = false;
            builder.Services.AddSingleton<IConnectionMultiplexer>(ConnectionMultiplexer.Connect(connection));
            builder.Services.AddSingleton<IPrefixIndex>(sp => new RedisPrefixIndex(sp.GetRequiredService<IConnectionMultiplexer>(), $"orleansllm:{settings.ClusterId}:pfx:"));
        }
        else
        {
            builder.Services.AddSingleton(TimeProvider.System);
            builder.Services.AddSingleton<IPrefixIndex, InMemoryPrefixIndex>();
        }
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));
        builder.UseOrleans(silo =>
        {
            silo.Configure<SiloOptions>(o => o.SiloName = siloName);
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = settings.ClusterId;
                o.ServiceId = "orleansllm";
            });
            silo.Configure<ClusterMembershipOptions>(o =>
            {
                o.ProbeTimeout = TimeSpan.FromSeconds(settings.ProbeTimeoutSeconds);
                o.NumMissedProbesLimit = settings.MissedProbesLimit;
            });
            silo.Configure<SiloMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(settings.ResponseTimeoutSeconds));
            if (settings.Mode == ClusterMode.Redis)
            {
                var options = ConfigurationOptions.Parse(builder.Configuration.GetConnectionString("redis")!);
                silo.ConfigureEndpoints(settings.ResolveAdvertisedAddress(), settings.SiloPort, settings.GatewayPort, listenOnAnyHostAddress: true);
                silo.UseRedisClustering(o => o.ConfigurationOptions = options.Clone());
                silo.AddRedisGrainStorage(PlatformNames.SessionStorage, o => o.ConfigurationOptions = options.Clone());
                silo.AddRedisGrainStorage("PubSubStore", o => o.ConfigurationOptions = options.Clone());
                silo.AddRedisGrainDirectory(PlatformNames.SessionDirectory, o => o.ConfigurationOptions = options.Clone());
            }
            else
            {
                silo.UseLocalhostClustering(settings.SiloPort, settings.GatewayPort);
                silo.AddMemoryGrainStorage(PlatformNames.SessionStorage);
                silo.AddMemoryGrainStorage("PubSubStore");
            }
            // a turn's trace crosses gateway → session → engine
            silo.AddActivityPropagation();
            silo.AddMemoryStreams(PlatformNames.StreamProvider);
            silo.AddDashboard();
            silo.AddOrleansLlmGrains(builder.Configuration);
        });
        builder.Services.AddHealthChecks().AddCheck<SiloHealthCheck>("silo");
        return builder;
    }

    /// <summary>The Orleans Dashboard under /dashboard.</summary>
    public static WebApplication MapOrleansLlmSiloEndpoints(this WebApplication app)
    {
        app.MapOrleansDashboard("/dashboard");
        return app;
    }
}
