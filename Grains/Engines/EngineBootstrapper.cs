using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime;

namespace OrleansLlm.Grains.Engines;

/// <summary>At silo start, declares this silo's engines to the registry (they load on first use).</summary>
public sealed partial class EngineBootstrapper(
    IClusterClient grains, IOptions<PlatformOptions> options, IOptions<SiloOptions> silo, ILocalSiloDetails local,
    ILogger<EngineBootstrapper> logger)
    : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(EngineBootstrapper), ServiceLifecycleStage.Active, ct =>
        {
            // in the background, retried: the registry's silo may be the one that just died
            _ = Task.Run(RegisterWithRetriesAsync);
            return Task.CompletedTask;
        });

    private async Task RegisterWithRetriesAsync()
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await RegisterAsync(CancellationToken.None);
                return;
            }
            catch (Exception e) when (attempt < 30)
            {
                LogRetry(logger, e, attempt);
                await Task.Delay(TimeSpan.FromSeconds(1));
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Registering this silo's engines failed (attempt {Attempt}); retrying")]
    private static partial void LogRetry(ILogger logger, Exception exception, int attempt);

    private async Task RegisterAsync(CancellationToken cancellationToken)
    {
        var registry = grains.GetGrain<IEngineRegistryGrain>(PlatformNames.RegistryKey);
        await registry.RegisterSilo(new SiloRecord(silo.Value.SiloName, local.SiloAddress.ToParsableString(), Environment.ProcessId, DateTime.UtcNow));
        var stream = grains.GetStreamProvider(PlatformNames.StreamProvider)
            .GetStream<EngineStatus>(StreamId.Create(PlatformNames.EngineStatusNamespace, PlatformNames.EngineStatusKey));
        foreach (var engine in options.Value.Engines)
        {
            var id = EngineId.Create(silo.Value.SiloName, engine.Device);
            var status = new EngineStatus(id, silo.Value.SiloName, engine.Device, engine.Model, EngineState.Unloaded, 0, 0, 0, 0, 0, DateTime.UtcNow);
            await registry.Register(status);
            // routers that started before this silo learn of the engine from the stream
            await stream.OnNextAsync(status);
            LogRegistered(logger, id, engine.Model);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Engine {Engine} (model {Model}) registered; it loads on first use")]
    private static partial void LogRegistered(ILogger logger, string engine, string model);
}
