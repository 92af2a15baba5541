using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using Orleans.Streams;

namespace OrleansLlm.Grains.Routing;

/// <summary>
/// This silo's view of every engine: the registry read once at start, then every change pushed on
/// the engine-status stream (routing never polls engines). Requests this silo has routed and not
/// yet finished are counted too, since a status lags the routing decisions made since it was sent.
/// </summary>
public sealed partial class EngineStatusBoard(
    IClusterClient client, IClusterMembershipService membership, ILogger<EngineStatusBoard> logger)
    : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly ConcurrentDictionary<string, EngineStatus> _engines = new();
    private readonly ConcurrentDictionary<string, int> _inFlight = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(EngineStatusBoard), ServiceLifecycleStage.Active + 1, StartAsync);

    /// <summary>Engines serving <paramref name="model"/> whose silo is an active member, with their last status.</summary>
    public async Task<IReadOnlyList<EngineStatus>> EnginesOfAsync(string model)
    {
        await _ready.Task;
        var active = membership.CurrentSnapshot.Members.Values
            .Where(m => m.Status == SiloStatus.Active).Select(m => m.Name).ToHashSet();
        return _engines.Values.Where(e => e.Model == model && active.Contains(e.Silo)).OrderBy(e => e.EngineId).ToList();
    }

    /// <summary>Every engine known, whatever its silo's state (for the admin view).</summary>
    public IReadOnlyCollection<EngineStatus> All => _engines.Values.OrderBy(e => e.EngineId).ToList();

    public int InFlight(string engine) => _inFlight.TryGetValue(engine, out var n) ? n : 0;

    /// <summary>Counts a request routed to <paramref name="engine"/> until the returned handle is disposed.</summary>
    public IDisposable Track(string engine)
    {
        _inFlight.AddOrUpdate(engine, 1, (_, n) => n + 1);
        return new Release(() => _inFlight.AddOrUpdate(engine, 0, (_, n) => Math.Max(0, n - 1)));
    }

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        var stream = client.GetStreamProvider(PlatformNames.StreamProvider)
            .GetStream<EngineStatus>(StreamId.Create(PlatformNames.EngineStatusNamespace, PlatformNames.EngineStatusKey));
        await stream.SubscribeAsync((status, _) =>
        {
            Apply(status);
            return Task.CompletedTask;
        });
        foreach (var status in await client.GetGrain<IEngineRegistryGrain>(PlatformNames.RegistryKey).List())
        {
            _engines.TryAdd(status.EngineId, status);
        }
        LogStarted(logger, _engines.Count);
        _ready.TrySetResult();
    }

    private void Apply(EngineStatus status) =>
        _engines.AddOrUpdate(status.EngineId, status, (_, old) => status.UpdatedUtc >= old.UpdatedUtc ? status : old);

    [LoggerMessage(Level = LogLevel.Information, Message = "Engine status board: {Count} engines known at start, following the engine-status stream")]
    private static partial void LogStarted(ILogger logger, int count);

    private sealed class Release(Action release) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0)
            {
                release();
            }
        }
    }
}
