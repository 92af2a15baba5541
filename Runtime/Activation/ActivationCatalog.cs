using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace OrleansLlm.Runtime;

/// <summary>
/// The activations of this silo: finds or creates the activation a call needs (taking the
/// grain's directory lease first), collects idle ones, and drops them all when the silo's lease
/// is lost.
/// </summary>
internal sealed partial class ActivationCatalog
{
    private readonly ConcurrentDictionary<GrainId, ActivationData> _activations = new();
    private readonly IReadOnlyDictionary<string, IGrainStorage> _storages;
    private readonly ILogger _logger;
    private volatile bool _stopping;

    public ActivationCatalog(
        LocalSilo silo,
        IClusterStore store,
        GrainTypeCatalog types,
        IReadOnlyDictionary<string, IGrainStorage> storages,
        ILogger logger)
    {
        Silo = silo;
        Store = store;
        Types = types;
        _storages = storages;
        _logger = logger;
    }

    public LocalSilo Silo { get; }

    public IClusterStore Store { get; }

    public GrainTypeCatalog Types { get; }

    public IGrainFactory GrainFactory { get; set; } = null!;

    public int Count => _activations.Count;

    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public IGrainStorage GetStorage(string? name)
    {
        name ??= "Default";
        return _storages.TryGetValue(name, out var storage)
            ? storage
            : throw new GrainRuntimeException($"no grain storage named '{name}' is configured on silo {Silo.Name}");
    }

    public async Task<object> InvokeAsync(GrainId grainId, GrainInterfaceInfo info, GrainMethod method, object?[] arguments, CancellationToken cancellationToken)
    {
        var activation = await GetOrActivateAsync(grainId, info, cancellationToken);
        return await activation.InvokeAsync(method, arguments, cancellationToken);
    }

    public async Task<IAsyncEnumerable<TItem>> OpenStreamAsync<TItem>(GrainId grainId, GrainInterfaceInfo info, StreamMethod<TItem> method, object?[] arguments,
        CancellationToken startToken, CancellationToken streamToken)
    {
        var activation = await GetOrActivateAsync(grainId, info, startToken);
        return activation.OpenStream(method, arguments, streamToken);
    }

    private async Task<ActivationData> GetOrActivateAsync(GrainId grainId, GrainInterfaceInfo info, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_stopping)
            {
                throw new CallNotExecutedException($"silo {Silo.Id} is shutting down");
            }
            if (!Silo.Lease.IsValid)
            {
                throw new CallNotExecutedException($"silo {Silo.Id} holds no valid lease");
            }
            if (info.Pinned && PinnedPlacement.SiloNameOf(grainId) != Silo.Name)
            {
                throw new CallNotExecutedException($"{grainId} is pinned to another silo than {Silo.Name}");
            }
            if (_activations.TryGetValue(grainId, out var existing))
            {
                await existing.Activated.WaitAsync(cancellationToken);
                if (existing.State == ActivationState.Active)
                {
                    return existing;
                }
                await existing.Completed.WaitAsync(cancellationToken);
                continue;
            }
            var created = new ActivationData(this, grainId, info);
            var activated = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            created.Activated = activated.Task;
            if (!_activations.TryAdd(grainId, created))
            {
                continue;
            }
            try
            {
                // activation is not abandoned with the first caller: later callers wait on it
                await created.ActivateAsync(CancellationToken.None);
                RuntimeMetrics.ActivationsCreated.Add(1);
                RuntimeMetrics.ActiveActivations.Add(1);
                LogActivated(grainId, created.Fence.Epoch);
                activated.SetResult();
                return created;
            }
            catch (Exception e)
            {
                created.Drop();
                activated.SetException(e);
                throw;
            }
        }
    }

    public void Remove(ActivationData activation)
    {
        if (_activations.TryRemove(new KeyValuePair<GrainId, ActivationData>(activation.GrainId, activation)) && activation.Instance is not null)
        {
            RuntimeMetrics.ActiveActivations.Add(-1);
            LogDeactivated(activation.GrainId, activation.Fence.Epoch);
        }
    }

    public void RequestDeactivation(ActivationData activation, DeactivationReason reason) =>
        _ = activation.DeactivateAsync(reason, DrainTimeout);

    /// <summary>Deactivates activations idle for longer than <paramref name="age"/>.</summary>
    public void CollectIdle(TimeSpan age)
    {
        foreach (var activation in _activations.Values)
        {
            if (activation.State == ActivationState.Active && activation.InFlight == 0 && activation.IdleTime > age)
            {
                RequestDeactivation(activation, DeactivationReason.Idle);
            }
        }
    }

    /// <summary>The silo lost its lease: every activation stops at once, without writing anything.</summary>
    public void DropAll()
    {
        var count = 0;
        foreach (var activation in _activations.Values)
        {
            activation.Drop();
            count++;
        }
        if (count > 0)
        {
            LogDroppedAll(count, Silo.Id);
        }
    }

    /// <summary>Graceful shutdown: refuse new calls, deactivate everything.</summary>
    public async Task DeactivateAllAsync()
    {
        _stopping = true;
        await Task.WhenAll(_activations.Values.Select(a => a.DeactivateAsync(DeactivationReason.SiloShutdown, DrainTimeout)));
    }

    public void LogDrainTimeout(GrainId grainId) => LogDrainTimedOut(grainId);

    public void LogDeactivationFailed(GrainId grainId, Exception exception) => LogDeactivationError(exception, grainId);
}
