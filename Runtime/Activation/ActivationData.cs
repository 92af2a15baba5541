using System.Runtime.CompilerServices;

namespace OrleansLlm.Runtime;

internal enum ActivationState
{
    Activating,
    Active,
    Deactivating,
    Deactivated,
}

/// <summary>
/// One activation of a grain: the grain object, its lease epoch, and its turn discipline. All grain
/// code runs on the activation's exclusive scheduler (one turn at a time); a non-reentrant call
/// additionally holds the activation's call lock from start to end, so calls never interleave
/// unless the grain is [Reentrant] or the method is [AlwaysInterleave].
/// </summary>
internal sealed class ActivationData : IGrainContext
{
    private readonly ActivationCatalog _catalog;
    private readonly SemaphoreSlim _callLock = new(1, 1);
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _completed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _lock = new();
    private readonly List<IStateLoader> _states = [];
    private int _inFlight;
    private long _lastUsedTimestamp = System.Diagnostics.Stopwatch.GetTimestamp();
    private Task? _deactivation;

    public ActivationData(ActivationCatalog catalog, GrainId grainId, GrainInterfaceInfo info)
    {
        _catalog = catalog;
        GrainId = grainId;
        Interface = info;
        Scheduler = new ConcurrentExclusiveSchedulerPair().ExclusiveScheduler;
    }

    public GrainId GrainId { get; }

    public GrainInterfaceInfo Interface { get; }

    public TaskScheduler Scheduler { get; }

    public ActivationState State { get; private set; } = ActivationState.Activating;

    public ActivationFence Fence { get; private set; }

    public Grain? Instance { get; private set; }

    /// <summary>Completes when activation succeeded; faults with the reason it did not.</summary>
    public Task Activated { get; set; } = Task.CompletedTask;

    /// <summary>Completes when the activation has been removed.</summary>
    public Task Completed => _completed.Task;

    public int InFlight => Volatile.Read(ref _inFlight);

    public TimeSpan IdleTime => System.Diagnostics.Stopwatch.GetElapsedTime(Volatile.Read(ref _lastUsedTimestamp));

    public bool DeactivationRequested { get; private set; }

    public IGrainFactory GrainFactory => _catalog.GrainFactory;

    public string SiloName => _catalog.Silo.Name;

    public IReadOnlyDictionary<string, string> SiloCapabilities => _catalog.Silo.Options.Capabilities;

    public IServiceProvider Services => _catalog.Silo.Options.Services ?? EmptyServices.Instance;

    public IPersistentState<TState> GetPersistentState<TState>(string stateName, string? storageName = null) where TState : new()
    {
        var storage = _catalog.GetStorage(storageName);
        var state = new PersistentState<TState>(GrainId, stateName, storage, _catalog.Types.GetJsonType<TState>(), () => Fence);
        _states.Add(state);
        return state;
    }

    public void DeactivateOnIdle() => DeactivationRequested = true;

    /// <summary>Takes the lease, creates the grain, reads its states and runs OnActivateAsync.</summary>
    public async Task ActivateAsync(CancellationToken cancellationToken)
    {
        var acquired = await _catalog.Store.TryAcquireAsync(GrainId, _catalog.Silo.Id, cancellationToken);
        switch (acquired.Status)
        {
            case AcquireStatus.OwnedElsewhere:
                throw new CallNotExecutedException($"{GrainId} is active on {acquired.OwnerSiloId}", acquired.OwnerSiloId, acquired.OwnerAddress);
            case AcquireStatus.NotAllowed:
                throw new CallNotExecutedException($"silo {_catalog.Silo.Id} may not activate grains now (not a live member, or the store was reset less than a lease ago)");
        }
        Fence = new ActivationFence(_catalog.Silo.Id, acquired.Epoch);
        try
        {
            await RunOnSchedulerAsync(async () =>
            {
                var factory = Interface.GrainFactory ?? throw new GrainRuntimeException($"this silo hosts no implementation of {Interface.InterfaceType.Name}");
                var grain = factory(this);
                grain.Attach(this);
                foreach (var state in _states)
                {
                    await state.ReadStateAsync(cancellationToken);
                }
                await grain.OnActivateAsync(cancellationToken);
                Instance = grain;
                return true;
            });
            lock (_lock)
            {
                State = ActivationState.Active;
            }
        }
        catch
        {
            await _catalog.Store.ReleaseAsync(GrainId, Fence.SiloId, Fence.Epoch, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Runs a Task-returning method as one call; returns the completed Task object.</summary>
    public async Task<object> InvokeAsync(GrainMethod method, object?[] arguments, CancellationToken cancellationToken)
    {
        Enter();
        try
        {
            return await RunTurnAsync(async () =>
            {
                var returned = method.Invoker(Instance!, arguments, cancellationToken);
                await (Task)returned;
                return returned;
            }, Exclusive(method), cancellationToken);
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>
    /// Admits a streaming call; each MoveNextAsync of the returned sequence is one turn. The
    /// sequence must be enumerated (the admission is released when enumeration ends).
    /// </summary>
    public IAsyncEnumerable<TItem> OpenStream<TItem>(StreamMethod<TItem> method, object?[] arguments, CancellationToken cancellationToken)
    {
        Enter();
        return EnumerateAsync(method, arguments, cancellationToken);
    }

    private async IAsyncEnumerable<TItem> EnumerateAsync<TItem>(StreamMethod<TItem> method, object?[] arguments, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        try
        {
            var exclusive = Exclusive(method);
            var enumerator = await RunTurnAsync(() =>
                Task.FromResult(((IAsyncEnumerable<TItem>)method.Invoker(Instance!, arguments, cancellationToken)).GetAsyncEnumerator(cancellationToken)),
                exclusive, cancellationToken);
            try
            {
                while (await RunTurnAsync(() => enumerator.MoveNextAsync().AsTask(), exclusive, cancellationToken))
                {
                    yield return enumerator.Current;
                }
            }
            finally
            {
                await RunOnSchedulerAsync(async () =>
                {
                    await enumerator.DisposeAsync();
                    return true;
                });
            }
        }
        finally
        {
            Exit();
        }
    }

    private bool Exclusive(GrainMethod method) => !Interface.Reentrant && !method.AlwaysInterleave;

    private async Task<TResult> RunTurnAsync<TResult>(Func<Task<TResult>> turn, bool exclusive, CancellationToken cancellationToken)
    {
        if (exclusive)
        {
            await _callLock.WaitAsync(cancellationToken);
        }
        try
        {
            if (!_catalog.Silo.Lease.IsValid || State != ActivationState.Active && State != ActivationState.Deactivating)
            {
                throw new CallNotExecutedException($"activation of {GrainId} lost its lease");
            }
            return await RunOnSchedulerAsync(turn);
        }
        finally
        {
            if (exclusive)
            {
                _callLock.Release();
            }
            Volatile.Write(ref _lastUsedTimestamp, System.Diagnostics.Stopwatch.GetTimestamp());
            if (DeactivationRequested)
            {
                _catalog.RequestDeactivation(this, DeactivationReason.Requested);
            }
        }
    }

    private Task<TResult> RunOnSchedulerAsync<TResult>(Func<Task<TResult>> work) =>
        Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.DenyChildAttach, Scheduler).Unwrap();

    private void Enter()
    {
        lock (_lock)
        {
            if (State != ActivationState.Active)
            {
                throw new CallNotExecutedException($"activation of {GrainId} is {State.ToString().ToLowerInvariant()}");
            }
            _inFlight++;
        }
    }

    private void Exit()
    {
        lock (_lock)
        {
            if (--_inFlight == 0 && State == ActivationState.Deactivating)
            {
                _drained.TrySetResult();
            }
        }
    }

    /// <summary>Stops admitting calls, waits for running ones, runs OnDeactivateAsync and releases the lease.</summary>
    public Task DeactivateAsync(DeactivationReason reason, TimeSpan drainTimeout)
    {
        lock (_lock)
        {
            if (_deactivation is not null)
            {
                return _deactivation;
            }
            if (State == ActivationState.Activating)
            {
                return Task.CompletedTask;
            }
            State = ActivationState.Deactivating;
            if (_inFlight == 0)
            {
                _drained.TrySetResult();
            }
            _deactivation = DeactivateCoreAsync(reason, drainTimeout);
            return _deactivation;
        }
    }

    private async Task DeactivateCoreAsync(DeactivationReason reason, TimeSpan drainTimeout)
    {
        try
        {
            await _drained.Task.WaitAsync(drainTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _catalog.LogDrainTimeout(GrainId);
        }
        try
        {
            if (Instance is { } grain && _catalog.Silo.Lease.IsValid)
            {
                using var cts = new CancellationTokenSource(drainTimeout);
                await RunOnSchedulerAsync(async () =>
                {
                    await grain.OnDeactivateAsync(reason, cts.Token);
                    return true;
                });
            }
        }
        catch (Exception e)
        {
            _catalog.LogDeactivationFailed(GrainId, e);
        }
        try
        {
            await _catalog.Store.ReleaseAsync(GrainId, Fence.SiloId, Fence.Epoch, CancellationToken.None);
        }
        catch (Exception e)
        {
            // the lease runs out by itself; nobody else can activate the grain before that
            _catalog.LogDeactivationFailed(GrainId, e);
        }
        Drop();
    }

    /// <summary>Removes the activation at once (lease lost: no more turns, nothing written).</summary>
    public void Drop()
    {
        lock (_lock)
        {
            State = ActivationState.Deactivated;
        }
        _catalog.Remove(this);
        _completed.TrySetResult();
    }

    private sealed class EmptyServices : IServiceProvider
    {
        public static EmptyServices Instance { get; } = new();

        public object? GetService(Type serviceType) => null;
    }
}
