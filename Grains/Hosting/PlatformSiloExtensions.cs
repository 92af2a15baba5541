using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime.GrainDirectory;
using OrleansLlm.Grains.Diagnostics;
using OrleansLlm.Grains.Engines;
using OrleansLlm.Grains.Models;
using OrleansLlm.Grains.Routing;
using OrleansLlm.Grains.Sessions;

namespace OrleansLlm.Grains.Hosting;

public static class PlatformSiloExtensions
{
    /// <summary>The platform's grains and their silo services. The host adds clustering, storage and an <c>IPrefixIndex</c>.</summary>
    public static ISiloBuilder AddOrleansLlmGrains(this ISiloBuilder silo, IConfiguration configuration)
    {
        var services = silo.Services;
        services.Configure<PlatformOptions>(configuration.GetSection(PlatformOptions.Section));
        services.AddSingleton<ModelCatalog>();
        services.AddSingleton<PlatformMetrics>();
        services.AddSingleton<EngineRouter>();
        services.AddSingleton<EngineCircuitBreakers>();
        services.AddSingleton<TurnRunner>();
        services.AddSingleton<EngineStatusBoard>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<EngineStatusBoard>());
        services.AddSingleton<EngineBootstrapper>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<EngineBootstrapper>());
        services.AddSingleton<IGrainDirectoryResolver, SessionDirectoryResolver>();
        silo.AddPlacementDirector<DevicePlacement, DevicePlacementDirector>();
        return silo;
    }
}
