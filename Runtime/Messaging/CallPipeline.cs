using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text.Json.Serialization.Metadata;
using Polly;
using Polly.Retry;

namespace OrleansLlm.Runtime;

/// <summary>
/// Routes a call to the silo that holds (or should activate) its grain, locally or over HTTP/2,
/// and retries attempts that provably did not execute (redirects, unreachable silos, lost
/// leases) with Polly until the call's timeout. An attempt that may have run is never retried.
/// </summary>
internal sealed class CallPipeline
{
    private readonly ConcurrentDictionary<GrainId, (string SiloId, string Address)> _directoryCache = new();
    private readonly MembershipView _view;
    private readonly SiloTransportClient _transport;
    private readonly ClusterOptions _options;
    private readonly ResiliencePipeline _retry;

    public CallPipeline(MembershipView view, SiloTransportClient transport, ClusterOptions options)
    {
        _view = view;
        _transport = transport;
        _options = options;
        _retry = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<CallNotExecutedException>(),
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                Delay = TimeSpan.FromMilliseconds(10),
                MaxDelay = TimeSpan.FromMilliseconds(400),
                UseJitter = true,
                OnRetry = static _ =>
                {
                    RuntimeMetrics.CallRetries.Add(1);
                    return default;
                },
            })
            .Build();
        _view.Changed += () => _directoryCache.Clear();
        _view.SiloLeft += _transport.AbandonSilo;
    }

    // a silo that just started appears in membership within a heartbeat period or two
    private TimeSpan PlacementPatience => TimeSpan.FromTicks(Math.Max(_options.HeartbeatPeriod.Ticks * 3, TimeSpan.FromSeconds(3).Ticks));

    /// <summary>Set on silos: calls to grains placed here run in this process without HTTP.</summary>
    public (LocalSilo Silo, ActivationCatalog Catalog)? Local { get; set; }

    public async Task<TResult?> InvokeAsync<TResult>(GrainId grainId, GrainInterfaceInfo info, GrainMethod method,
        JsonTypeInfo<TResult>? resultType, object?[] arguments, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var call = new CallState<TResult>(this, grainId, info, method, resultType, arguments);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.CallTimeout);
        try
        {
            var result = await _retry.ExecuteAsync(static (state, token) => state.Pipeline.InvokeOnceAsync(state, token), call, timeout.Token);
            Record(started, call.Remote, null);
            return result;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            var error = TimeoutError(grainId, method, call.LastNotExecuted);
            Record(started, call.Remote, error);
            throw error;
        }
        catch (Exception e)
        {
            Record(started, call.Remote, e);
            throw;
        }
    }

    public async IAsyncEnumerable<TItem> StreamAsync<TItem>(GrainId grainId, GrainInterfaceInfo info, StreamMethod<TItem> method,
        object?[] arguments, CancellationToken callToken, [EnumeratorCancellation] CancellationToken enumeratorToken = default)
    {
        using var linked = callToken.CanBeCanceled && enumeratorToken.CanBeCanceled
            ? CancellationTokenSource.CreateLinkedTokenSource(callToken, enumeratorToken)
            : null;
        var cancellationToken = linked?.Token ?? (callToken.CanBeCanceled ? callToken : enumeratorToken);
        var started = Stopwatch.GetTimestamp();
        var call = new CallState<TItem>(this, grainId, info, method, null, arguments);
        IAsyncEnumerable<TItem> items;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            timeout.CancelAfter(_options.CallTimeout);
            try
            {
                items = await _retry.ExecuteAsync(
                    static (state, token) => state.Call.Pipeline.OpenStreamOnceAsync(state, (StreamMethod<TItem>)state.Call.Method, token),
                    (Call: call, StreamToken: cancellationToken), timeout.Token);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                var error = TimeoutError(grainId, method, call.LastNotExecuted);
                Record(started, call.Remote, error);
                throw error;
            }
            catch (Exception e)
            {
                Record(started, call.Remote, e);
                throw;
            }
        }
        Record(started, call.Remote, null);
        await foreach (var item in items.WithCancellation(cancellationToken))
        {
            // items already buffered are not handed out after cancellation
            cancellationToken.ThrowIfCancellationRequested();
            yield return item;
        }
    }

    private async ValueTask<TResult?> InvokeOnceAsync<TResult>(CallState<TResult> call, CancellationToken cancellationToken)
    {
        var target = Resolve(call);
        try
        {
            TResult? result;
            if (Local is { } local && target.Id == local.Silo.Id)
            {
                call.Remote = false;
                var completed = await local.Catalog.InvokeAsync(call.GrainId, call.Interface, call.Method, call.Arguments, cancellationToken);
                result = call.ResultType is null ? default : ((Task<TResult>)completed).Result;
            }
            else
            {
                call.Remote = true;
                result = await _transport.InvokeAsync(target, call.GrainId, call.Interface, call.Method, call.ResultType, call.Arguments, cancellationToken);
            }
            Remember(call.GrainId, target);
            return result;
        }
        catch (CallNotExecutedException e)
        {
            OnNotExecuted(call, target, e);
            throw;
        }
        catch (CallOutcomeUnknownException)
        {
            _directoryCache.TryRemove(call.GrainId, out _);
            throw;
        }
    }

    private async ValueTask<IAsyncEnumerable<TItem>> OpenStreamOnceAsync<TItem>((CallState<TItem> Call, CancellationToken StreamToken) state,
        StreamMethod<TItem> method, CancellationToken startToken)
    {
        var (call, streamToken) = state;
        var target = Resolve(call);
        try
        {
            IAsyncEnumerable<TItem> items;
            if (Local is { } local && target.Id == local.Silo.Id)
            {
                call.Remote = false;
                items = await local.Catalog.OpenStreamAsync(call.GrainId, call.Interface, method, call.Arguments, startToken, streamToken);
            }
            else
            {
                call.Remote = true;
                items = await _transport.OpenStreamAsync(target, call.GrainId, call.Interface, method, call.Arguments, startToken);
            }
            Remember(call.GrainId, target);
            return items;
        }
        catch (CallNotExecutedException e)
        {
            OnNotExecuted(call, target, e);
            throw;
        }
    }

    private void Remember(GrainId grainId, SiloRecord target)
    {
        if (!_directoryCache.TryGetValue(grainId, out var cached) || cached.SiloId != target.Id)
        {
            _directoryCache[grainId] = (target.Id, target.Address);
        }
    }

    private SiloRecord Resolve<TResult>(CallState<TResult> call)
    {
        if (_directoryCache.TryGetValue(call.GrainId, out var cached))
        {
            // an owner missing from this process's view has just joined: trust the directory
            var known = _view.Find(cached.SiloId);
            if (known is null)
            {
                return new SiloRecord(cached.SiloId, "", cached.Address, new Dictionary<string, string>(), SiloStatus.Active, 0);
            }
            if (_view.IsLive(cached.SiloId))
            {
                return known;
            }
        }
        var director = call.Interface.Placement ?? (call.Interface.Pinned ? PinnedPlacement.Instance : RendezvousPlacement.Instance);
        try
        {
            return director.PlaceGrain(new PlacementContext(call.GrainId, _view.LiveSilos, Local?.Silo.Record));
        }
        catch (NoSiloAvailableException e) when (Stopwatch.GetElapsedTime(call.Started) > PlacementPatience)
        {
            throw new NoSiloAvailableException(e.Message);
        }
        catch (NoSiloAvailableException e)
        {
            // membership may still be catching up (a silo starting); retried until the timeout
            var error = new CallNotExecutedException(e.Message) { Placement = e };
            call.LastNotExecuted = error;
            throw error;
        }
    }

    private void OnNotExecuted<TResult>(CallState<TResult> call, SiloRecord target, CallNotExecutedException e)
    {
        call.LastNotExecuted = e;
        if (e.RedirectSiloId is not null && e.RedirectAddress is not null && e.RedirectSiloId != target.Id)
        {
            _directoryCache[call.GrainId] = (e.RedirectSiloId, e.RedirectAddress);
            return;
        }
        _directoryCache.TryRemove(call.GrainId, out _);
        if (e.Unreachable)
        {
            _view.Suspect(target.Id, _options.HeartbeatPeriod * 2);
        }
    }

    private static Exception TimeoutError(GrainId grainId, GrainMethod method, CallNotExecutedException? last)
    {
        if (last?.Placement is { } placement)
        {
            return placement;
        }
        var reason = last is null ? "" : $" (last attempt: {last.Reason})";
        return new GrainCallTimeoutException($"call {method.Name} on {grainId} timed out{reason}");
    }

    private static void Record(long started, bool remote, Exception? error)
    {
        var target = new KeyValuePair<string, object?>("target", remote ? "remote" : "local");
        RuntimeMetrics.Calls.Add(1, target);
        RuntimeMetrics.CallDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds, target);
        if (error is not null)
        {
            RuntimeMetrics.CallFailures.Add(1, target, new KeyValuePair<string, object?>("error", error.GetType().Name));
        }
    }

    private sealed class CallState<TResult>(CallPipeline pipeline, GrainId grainId, GrainInterfaceInfo info, GrainMethod method,
        JsonTypeInfo<TResult>? resultType, object?[] arguments)
    {
        public CallPipeline Pipeline { get; } = pipeline;
        public GrainId GrainId { get; } = grainId;
        public GrainInterfaceInfo Interface { get; } = info;
        public GrainMethod Method { get; } = method;
        public JsonTypeInfo<TResult>? ResultType { get; } = resultType;
        public object?[] Arguments { get; } = arguments;
        public long Started { get; } = Stopwatch.GetTimestamp();

        public bool Remote { get; set; }
        public CallNotExecutedException? LastNotExecuted { get; set; }
    }
}
