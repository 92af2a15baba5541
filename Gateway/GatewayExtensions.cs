using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orleans.Configuration;
using OrleansLlm.Gateway.Apis;

namespace OrleansLlm.Gateway;

public static class GatewayExtensions
{
    /// <summary>An Orleans client of the cluster on Redis (the gateway process; in one-process mode the silo is the client).</summary>
    public static WebApplicationBuilder AddOrleansLlmClient(this WebApplicationBuilder builder)
    {
        var redis = builder.Configuration.GetConnectionString("redis")
            ?? throw new InvalidOperationException("the gateway needs ConnectionStrings:redis (the cluster's Redis)");
        var clusterId = builder.Configuration["Cluster:ClusterId"] ?? "orleansllm";
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = clusterId;
                o.ServiceId = "orleansllm";
            });
            client.AddActivityPropagation();
            client.UseRedisClustering(o => o.ConfigurationOptions = StackExchange.Redis.ConfigurationOptions.Parse(redis));
            // The silos' Cluster:ResponseTimeoutSeconds bounds the gateway's calls too: a streamed call whose
            // silo died (no answer, no error) fails after it, and the silos' long polls answer within half of it.
            if (builder.Configuration.GetValue<double?>("Cluster:ResponseTimeoutSeconds") is { } timeout)
            {
                client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(timeout));
            }
        });
        builder.Services.AddHealthChecks().AddCheck<ClusterClientHealthCheck>("cluster");
        return builder;
    }

    public static WebApplicationBuilder AddOrleansLlmGateway(this WebApplicationBuilder builder)
    {
        builder.Services.Configure<GatewayOptions>(builder.Configuration.GetSection(GatewayOptions.Section));
        builder.Services.AddSingleton<GenerationLimiter>();
        builder.Services.AddSingleton<GenerationHandler>();
        builder.Services.AddSingleton<GrainCallPipeline>();
        return builder;
    }

    public static WebApplication MapOrleansLlmGateway(this WebApplication app)
    {
        app.UseMiddleware<OpenAiErrorMiddleware>();
        app.UseMiddleware<ApiKeyAuthentication>();
        app.MapOpenAiApiV1();
        app.MapSessionsApiV1();
        app.MapAdminApi();
        return app;
    }
}

/// <summary>Healthy once the client can reach the cluster (it answers a management call).</summary>
public sealed class ClusterClientHealthCheck(IClusterClient cluster) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var hosts = await cluster.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true).WaitAsync(TimeSpan.FromSeconds(5), cancellationToken);
            return hosts.Count > 0 ? HealthCheckResult.Healthy($"{hosts.Count} active silos") : HealthCheckResult.Unhealthy("no active silo");
        }
        catch (Exception e)
        {
            return HealthCheckResult.Unhealthy("the cluster does not answer", e);
        }
    }
}
