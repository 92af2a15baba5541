using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using Orleans.Streams;

namespace OrleansLlm.Grains.Routing;

/// <summary>
/// This silo's view of every engine: the registry read at start, then every change pushed on the
/// engine-status stream (routing never polls engines). The stream delivers at most once (a memory
/// stream's queue read that times out loses what it dequeued), so the registry is read again every
/// <see cref="ReconcileInterval"/> and merged by time: an engine whose announcement was lost is
/// still known, and a newer status is never replaced by an older one. Requests this silo has routed
/// and not yet finished are counted too, since a status lags the routing decisions made since it was sent.
/// </summary>
public sealed partial class EngineStatusBoard(
    IClusterClient client, IClusterMembershipService membership, ILogger<EngineStatusBoard> logger)
    : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly ConcurrentDictionary<string, EngineStatus> _engines = new();
    private readonly ConcurrentDictionary<string, int> _inFlight = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stopping = new();

    public static readonly TimeSpan ReconcileInterval = TimeSpan.FromSeconds(5);

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(EngineStatusBoard), ServiceLifecycleStage.Active + 1, StartAsync, StopAsync);

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

    /// <summary>
    /// Follows the stream and the registry in the background, each retried until it works: a silo
    /// that starts while the one holding the stream's rendezvous or the registry dies must not fail
    /// its own start over it (CI saw a replacement silo exit that way, leaving no silo at all).
    /// Routing on this silo waits for the first registry read.
    /// </summary>
    private Task StartAsync(CancellationToken cancellationToken)
    {
        _ = Task.Run(SubscribeWithRetriesAsync, CancellationToken.None);
        _ = Task.Run(ReconcileAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    private Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping.Cancel();
        return Task.CompletedTask;
    }

    private async Task SubscribeWithRetriesAsync()
    {
        var stream = client.GetStreamProvider(PlatformNames.StreamProvider)
            .GetStream<EngineStatus>(StreamId.Create(PlatformNames.EngineStatusNamespace, PlatformNames.EngineStatusKey));
        for (var attempt = 1; !_stopping.IsCancellationRequested; attempt++)
        {
            try
            {
                await stream.SubscribeAsync((status, _) =>
                {
                    Apply(status);
                    return Task.CompletedTask;
                });
                return;
            }
            catch (Exception e) when (!_stopping.IsCancellationRequested)
            {
                LogSubscribeFailed(logger, e, attempt);
                await DelayAsync(TimeSpan.FromSeconds(1));
            }
        }
    }

    private async Task ReconcileAsync()
    {
        for (var attempt = 1; !_stopping.IsCancellationRequested; attempt++)
        {
            try
            {
                await ReadRegistryAsync();
                if (_ready.TrySetResult())
                {
                    LogStarted(logger, _engines.Count);
                }
            }
            catch (Exception e) when (!_stopping.IsCancellationRequested)
            {
                // the registry's silo may be the one that just died: the next tick asks again
                LogReconcileFailed(logger, e, attempt);
            }
            await DelayAsync(_ready.Task.IsCompleted ? ReconcileInterval : TimeSpan.FromSeconds(1));
        }
    }

    private async Task DelayAsync(TimeSpan delay)
    {
        try
        {
            await Task.Delay(delay, _stopping.Token);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task ReadRegistryAsync()
    {
        foreach (var status in await client.GetGrain<IEngineRegistryGrain>(PlatformNames.RegistryKey).List())
        {
            if (_ready.Task.IsCompleted && !_engines.ContainsKey(status.EngineId))
            {
                LogLearned(logger, status.EngineId);
            }
            Apply(status);
        }
    }

    private void Apply(EngineStatus status) =>
        _engines.AddOrUpdate(status.EngineId, status, (_, old) => status.UpdatedUtc >= old.UpdatedUtc ? status : old);

    [LoggerMessage(Level = LogLevel.Information, Message = "Engine status board: {Count} engines known at start, following the engine-status stream and the registry")]
    private static partial void LogStarted(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Engine status board: engine {Engine} learned from the registry")]
    private static partial void LogLearned(ILogger logger, string engine);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Engine status board: reading the registry failed (attempt {Attempt}); asking again")]
    private static partial void LogReconcileFailed(ILogger logger, Exception exception, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Engine status board: subscribing to the engine-status stream failed (attempt {Attempt}); retrying")]
    private static partial void LogSubscribeFailed(ILogger logger, Exception exception, int attempt);

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
