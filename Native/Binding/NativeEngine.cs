using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading.Channels;

namespace OrleansLlm.Native;

/// <summary>
/// The native continuous-batching engine with its own step thread. Each call to
/// <see cref="GenerateAsync"/> adds a request and streams its tokens; abandoning or cancelling the
/// enumeration aborts the request. KV cache events are raised on the step thread, in order.
/// </summary>
public sealed class NativeEngine : IDisposable
{
    private readonly NativeModel _model;
    private readonly SafeEngineHandle _handle;
    private readonly Thread _stepThread;
    private readonly ManualResetEventSlim _wake = new(false);
    private readonly ConcurrentDictionary<long, Channel<GeneratedToken>> _requests = new();
    private volatile bool _stopping;
    private volatile Exception? _fault;
    private int _addsInFlight;

    public NativeEngine(NativeModel model, EngineOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= new EngineOptions();
        _model = model;
        var parameters = NativeMethods.EngineDefaultParams();
        parameters.BlockSizeTokens = options.BlockSizeTokens;
        parameters.KvCacheBytes = options.KvCacheBytes;
        parameters.MaxBatchedTokens = options.MaxBatchedTokens;
        parameters.MaxRunningRequests = options.MaxRunningRequests;
        parameters.MaxModelLen = options.MaxModelLength;
        parameters.NThreads = options.ThreadCount;
        parameters.EnablePrefixCaching = options.EnablePrefixCaching ? 1 : 0;
        parameters.Backend = (int)options.Backend;
        parameters.DeviceIndex = options.DeviceIndex;
        parameters.GpuMemoryFraction = options.GpuMemoryFraction;
        parameters.KvCacheDtype = (int)options.KvCacheType;
        _handle = SafeEngineHandle.Create(model.Handle, parameters);
        _stepThread = new Thread(StepLoop) { IsBackground = true, Name = "orleansllm-engine-step" };
        _stepThread.Start();
    }

    /// <summary>Raised on the step thread for every KV cache event, in order. Handlers must not block.</summary>
    public event Action<KvCacheEvent>? KvCacheEventRaised;

    /// <summary>Raised on the step thread after each step that did work.</summary>
    public event Action<EngineStepInfo>? StepCompleted;

    public NativeModel Model => _model;

    /// <summary>
    /// Adds a request when enumeration starts and yields its tokens as the engine produces them.
    /// Bad input throws <see cref="NativeException"/> from the first MoveNextAsync; cancelling
    /// <paramref name="cancellationToken"/> or leaving the loop early aborts the request.
    /// </summary>
    /// <param name="salt">Mixed into the prefix hash: requests share cached blocks only with the same salt.</param>
    /// <param name="priority">Smaller runs first and is preempted last.</param>
    public async IAsyncEnumerable<GeneratedToken> GenerateAsync(IReadOnlyList<int> prompt, SamplingOptions? sampling = null,
        ReadOnlyMemory<byte> salt = default, int priority = 0, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        cancellationToken.ThrowIfCancellationRequested();
        var channel = Channel.CreateUnbounded<GeneratedToken>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var id = AddRequest(prompt, sampling ?? new SamplingOptions(), salt.Span, priority, channel);
        var finished = false;
        try
        {
            await foreach (var token in channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                finished = token.FinishReason is not null;
                yield return token;
            }
            finished = true;
        }
        finally
        {
            if (!finished)
            {
                Abort(id);
            }
            _requests.TryRemove(id, out _);
        }
    }

    /// <summary>Counters as of the last step.</summary>
    public EngineStats GetStats()
    {
        NativeMethods.Check(NativeMethods.EngineGetStats(_handle, out var s));
        return new EngineStats(s.NBlocksTotal, s.NBlocksUsed, s.NBlocksCached, s.BlockSizeTokens, s.NRunning, s.NWaiting,
            s.PrefixQueryTokens, s.PrefixHitTokens, s.NPreemptions, s.KvSlotsAllocated, s.KvTokensStored, s.NSteps,
            s.NGeneratedTokens, s.MaxModelLen);
    }

    public void Dispose()
    {
        if (_stopping)
        {
            return;
        }
        _stopping = true;
        _wake.Set();
        _stepThread.Join();
        foreach (var channel in _requests.Values)
        {
            channel.Writer.TryComplete(new ObjectDisposedException(nameof(NativeEngine)));
        }
        _handle.Dispose();
        _wake.Dispose();
    }

    private unsafe long AddRequest(IReadOnlyList<int> prompt, SamplingOptions sampling, ReadOnlySpan<byte> salt, int priority,
        Channel<GeneratedToken> channel)
    {
        ObjectDisposedException.ThrowIf(_stopping, this);
        if (_fault is not null)
        {
            throw new InvalidOperationException("the engine stopped after a native failure", _fault);
        }
        var tokens = prompt as int[] ?? [.. prompt];
        var stops = sampling.StopTokenIds as int[] ?? [.. sampling.StopTokenIds];
        var native = NativeMethods.SamplingDefaultParams();
        native.Temperature = sampling.Temperature;
        native.TopK = sampling.TopK;
        native.TopP = sampling.TopP;
        native.MinP = sampling.MinP;
        native.RepetitionPenalty = sampling.RepetitionPenalty;
        native.FrequencyPenalty = sampling.FrequencyPenalty;
        native.PresencePenalty = sampling.PresencePenalty;
        native.MaxTokens = sampling.MaxTokens;
        native.Seed = sampling.Seed ?? -1;
        native.NStopTokenIds = stops.Length;
        native.IgnoreEos = sampling.IgnoreEos ? 1 : 0;
        native.Logprobs = sampling.Logprobs ? 1 : 0;
        native.TopLogprobs = sampling.TopLogprobs;
        long id;
        // The step thread may report on the id before it is registered below; while any add is
        // between the native call and its registration, Dispatch waits for it (_addsInFlight).
        Interlocked.Increment(ref _addsInFlight);
        try
        {
            fixed (int* t = tokens)
            fixed (int* s = stops)
            fixed (byte* salted = salt)
            {
                native.StopTokenIds = s;
                NativeMethods.Check(NativeMethods.EngineAddRequest(_handle, t, tokens.Length, &native, salted, salt.Length, priority, out id));
            }
            _requests[id] = channel;
        }
        finally
        {
            Interlocked.Decrement(ref _addsInFlight);
        }
        _wake.Set();
        return id;
    }

    private void Abort(long id)
    {
        if (_stopping || _handle.IsClosed)
        {
            return;
        }
        // NOT_FOUND: it finished meanwhile, which is fine.
        var status = NativeMethods.EngineAbort(_handle, id);
        if (status != 0 && status != (int)NativeStatus.NotFound)
        {
            NativeMethods.Check(status);
        }
    }

    private void StepLoop()
    {
        while (!_stopping)
        {
            _wake.Reset();
            if (NativeMethods.EngineHasUnfinished(_handle) == 0)
            {
                _wake.Wait();
                continue;
            }
            try
            {
                Step();
            }
            catch (Exception ex)
            {
                // A native failure is a bug: fail every open request and stop stepping.
                _fault = ex;
                foreach (var channel in _requests.Values)
                {
                    channel.Writer.TryComplete(ex);
                }
                return;
            }
        }
    }

    private unsafe void Step()
    {
        var started = Stopwatch.GetTimestamp();
        NativeMethods.Check(NativeMethods.EngineStep(_handle, out var output));
        var duration = Stopwatch.GetElapsedTime(started);
        for (var i = 0; i < output.NOutputs; i++)
        {
            Dispatch(in output.Outputs[i]);
        }
        var handler = KvCacheEventRaised;
        if (handler is not null)
        {
            for (var i = 0; i < output.NKvEvents; i++)
            {
                handler(ToEvent(in output.KvEvents[i]));
            }
        }
        if (output.NScheduledTokens > 0 || output.NOutputs > 0)
        {
            StepCompleted?.Invoke(new EngineStepInfo(output.NScheduledTokens, output.NScheduledRequests, output.NOutputs, duration));
        }
    }

    private unsafe void Dispatch(in RequestOutput o)
    {
        Channel<GeneratedToken>? channel;
        var spin = new SpinWait();
        while (!_requests.TryGetValue(o.RequestId, out channel))
        {
            if (Volatile.Read(ref _addsInFlight) == 0 && !_requests.TryGetValue(o.RequestId, out channel))
            {
                return;  // its enumeration was abandoned
            }
            spin.SpinOnce();
        }
        FinishReason? finish = o.FinishReason == 0 ? null : (FinishReason)o.FinishReason;
        for (var t = 0; t < o.NNewTokens; t++)
        {
            var top = new TokenLogprob[o.NTopLogprobs];
            for (var k = 0; k < top.Length; k++)
            {
                var e = o.TopLogprobs[t * o.NTopLogprobs + k];
                top[k] = new TokenLogprob(e.TokenId, e.Logprob);
            }
            float? logprob = o.Logprobs == null ? null : o.Logprobs[t];
            var last = t == o.NNewTokens - 1;
            channel.Writer.TryWrite(new GeneratedToken(o.NewTokenIds[t], logprob, top, last ? finish : null, o.NumPromptTokens,
                o.NumCachedTokens));
        }
        if (finish == FinishReason.Abort)
        {
            channel.Writer.TryComplete(new OperationCanceledException($"request {o.RequestId} was aborted"));
        }
        else if (finish is not null)
        {
            channel.Writer.TryComplete();
        }
    }

    private static unsafe KvCacheEvent ToEvent(in KvEventNative e)
    {
        var hashes = new BlockHash[e.NHashes];
        for (var i = 0; i < hashes.Length; i++)
        {
            hashes[i] = BlockHash.FromBytes(new ReadOnlySpan<byte>(e.Hashes + i * BlockHash.SizeBytes, BlockHash.SizeBytes));
        }
        return e.Kind switch
        {
            0 => new BlocksStored(hashes, e.HasParent != 0 ? BlockHash.FromBytes(e.ParentHash) : null),
            1 => new BlocksRemoved(hashes),
            _ => new AllBlocksCleared(),
        };
    }
}
