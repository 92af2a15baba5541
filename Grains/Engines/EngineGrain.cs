using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Configuration;
using Orleans.Streams;
using OrleansLlm.Grains.Diagnostics;
using OrleansLlm.Grains.Models;
using OrleansLlm.Grains.PrefixIndex;
using OrleansLlm.Native;

namespace OrleansLlm.Grains.Engines;

/// <summary>
/// Drives one <see cref="NativeEngine"/> on one device. Reentrant: every request streams at once
/// and the native step loop batches them. Loads its model on first use (cold start measured),
/// publishes KV events to the prefix index in batches and status changes on the engine-status
/// stream, and frees everything after <see cref="EngineOptions.IdleTimeoutSeconds"/> without work.
/// </summary>
[Reentrant, DevicePlacement]
public sealed partial class EngineGrain(
    IOptions<PlatformOptions> options,
    IOptions<SiloOptions> silo,
    ModelCatalog models,
    IPrefixIndex prefixIndex,
    PlatformMetrics metrics,
    ILogger<EngineGrain> logger) : Grain, IEngineGrain
{
    private static readonly TimeSpan s_tick = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan s_aliveTtl = TimeSpan.FromSeconds(15);

    private readonly Channel<KvCacheEvent> _kvEvents = Channel.CreateUnbounded<KvCacheEvent>(new() { SingleReader = true });
    private EngineOptions _config = null!;
    private string _device = "";
    private Task? _loading;
    private NativeModel? _model;
    private NativeEngine? _engine;
    private EngineState _state = EngineState.Unloaded;
    private int _active;
    private DateTime _lastActivityUtc = DateTime.UtcNow;
    private DateTime _lastHeartbeatUtc = DateTime.MinValue;
    private EngineStatus? _published;
    private IAsyncStream<EngineStatus>? _statusStream;

    private string Id => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var (siloName, device) = EngineId.Parse(Id);
        _device = device;
        _config = options.Value.Engines.FirstOrDefault(e => e.Device == device && siloName == silo.Value.SiloName)
            ?? throw new EngineUnavailableException($"engine '{Id}': silo '{silo.Value.SiloName}' owns no device '{device}'");
        _statusStream = this.GetStreamProvider(PlatformNames.StreamProvider)
            .GetStream<EngineStatus>(StreamId.Create(PlatformNames.EngineStatusNamespace, PlatformNames.EngineStatusKey));
        // A restarted engine starts with an empty cache: whatever the index said about it is stale.
        await prefixIndex.ClearAsync(Id);
        // KeepAlive: the engine's own idle timeout decides when it unloads (0 = never), not Orleans'
        // activation collection, which would drop an idle engine after its collection age anyway.
        this.RegisterGrainTimer(TickAsync, new GrainTimerCreationOptions(s_tick, s_tick) { Interleave = true, KeepAlive = true });
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        Unload();
        await prefixIndex.ClearAsync(Id);
        await PublishStatusAsync(force: true);
    }

    public async IAsyncEnumerable<EngineToken> Generate(EngineRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        _active++;
        _lastActivityUtc = DateTime.UtcNow;
        try
        {
            var engine = await EnsureLoadedAsync();
            var sampling = ToNative(request.Sampling);
            var salt = Encoding.UTF8.GetBytes(request.Tenant);
            await using var tokens = engine.GenerateAsync(request.PromptTokenIds, sampling, salt, 0, cancellationToken)
                .GetAsyncEnumerator(cancellationToken);
            while (true)
            {
                bool more;
                try
                {
                    more = await tokens.MoveNextAsync();
                }
                catch (NativeException e) when (e.Status is NativeStatus.InvalidArgument or NativeStatus.Capacity)
                {
                    throw new InvalidTurnException(e.Message, "messages", "context_length_exceeded");
                }
                if (!more)
                {
                    yield break;
                }
                var t = tokens.Current;
                yield return new EngineToken(t.TokenId, t.Logprob,
                    t.TopLogprobs.Select(a => new TokenAlternative(a.TokenId, a.Logprob)).ToArray(),
                    t.FinishReason switch { FinishReason.Stop => "stop", FinishReason.Length => "length", null => null, _ => "abort" },
                    t.PromptTokens, t.CachedPromptTokens);
            }
        }
        finally
        {
            _active--;
            _lastActivityUtc = DateTime.UtcNow;
        }
    }

    public Task<EngineStatus> GetStatus() => Task.FromResult(CurrentStatus());

    public async Task<EngineStatus> Warm()
    {
        await EnsureLoadedAsync();
        return CurrentStatus();
    }

    private async Task<NativeEngine> EnsureLoadedAsync()
    {
        _loading ??= LoadAsync();
        await _loading;
        return _engine!;
    }

    private async Task LoadAsync()
    {
        var started = Stopwatch.GetTimestamp();
        _state = EngineState.Loading;
        await PublishStatusAsync(force: true);
        var path = models.PathOf(_config.Model);
        LogLoading(logger, Id, _config.Model, path);
        try
        {
            // Loading reads gigabytes: off the grain's scheduler.
            (_model, _engine) = await Task.Run(() =>
            {
                var weights = string.IsNullOrEmpty(_config.Weights) ? WeightQuantization.AsStored
                    : NativeQuantizer.Parse(_config.Weights)
                      ?? throw new ArgumentException($"Weights '{_config.Weights}' is not q8_0, q4_0 or q4_k_m");
                var kvCache = string.IsNullOrEmpty(_config.KvCacheDtype) ? KvCacheType.ModelDefault
                    : KvCacheTypes.Parse(_config.KvCacheDtype)
                      ?? throw new ArgumentException($"KvCacheDtype '{_config.KvCacheDtype}' is not bf16 or int8");
                var model = NativeModel.Load(path, _config.Threads, weights: weights);
                var engine = new NativeEngine(model, new Native.EngineOptions
                {
                    KvCacheBytes = _config.KvCacheMiB << 20,
                    MaxBatchedTokens = _config.MaxBatchedTokens,
                    MaxRunningRequests = _config.MaxRunningRequests,
                    ThreadCount = _config.Threads,
                    KvCacheType = kvCache,
                });
                return (model, engine);
            });
        }
        catch (Exception e)
        {
            _state = EngineState.Failed;
            _loading = null;
            LogLoadFailed(logger, e, Id, path);
            await PublishStatusAsync(force: true);
            throw new EngineUnavailableException($"engine '{Id}' could not load model '{_config.Model}': {e.Message}");
        }
        _engine.KvCacheEventRaised += e => _kvEvents.Writer.TryWrite(e);
        _state = EngineState.Ready;
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        metrics.RecordColdStart(seconds, Id, silo.Value.SiloName);
        LogLoaded(logger, Id, seconds, _model.Description.WeightBytes / (1024.0 * 1024.0), _model.Description.WeightDtype,
            _engine.GetStats().BlocksTotal, string.IsNullOrEmpty(_config.KvCacheDtype) ? "model's" : _config.KvCacheDtype);
        await PublishStatusAsync(force: true);
    }

    private void Unload()
    {
        _engine?.Dispose();
        _model?.Dispose();
        _engine = null;
        _model = null;
        _loading = null;
        _state = EngineState.Unloaded;
    }

    private async Task TickAsync(CancellationToken cancellationToken)
    {
        await FlushKvEventsAsync();
        var now = DateTime.UtcNow;
        if (now - _lastHeartbeatUtc > s_aliveTtl / 3)
        {
            _lastHeartbeatUtc = now;
            await prefixIndex.HeartbeatAsync(Id, s_aliveTtl);
        }
        await PublishStatusAsync(force: false);
        if (_state == EngineState.Ready && _active == 0 && _config.IdleTimeoutSeconds > 0
            && now - _lastActivityUtc > TimeSpan.FromSeconds(_config.IdleTimeoutSeconds))
        {
            LogIdle(logger, Id, _config.IdleTimeoutSeconds);
            this.DeactivateOnIdle();
        }
    }

    /// <summary>Sends the KV events since the last tick to the index, consecutive events of a kind merged.</summary>
    private async Task FlushKvEventsAsync()
    {
        var stored = new List<BlockHash>();
        var removed = new List<BlockHash>();
        while (_kvEvents.Reader.TryRead(out var e))
        {
            switch (e)
            {
                case BlocksStored s:
                    if (removed.Count > 0)
                    {
                        await prefixIndex.RemoveAsync(Id, removed);
                        removed.Clear();
                    }
                    stored.AddRange(s.Hashes);
                    break;
                case BlocksRemoved r:
                    if (stored.Count > 0)
                    {
                        await prefixIndex.StoreAsync(Id, stored);
                        stored.Clear();
                    }
                    removed.AddRange(r.Hashes);
                    break;
                case AllBlocksCleared:
                    stored.Clear();
                    removed.Clear();
                    await prefixIndex.ClearAsync(Id);
                    break;
            }
        }
        await prefixIndex.StoreAsync(Id, stored);
        await prefixIndex.RemoveAsync(Id, removed);
    }

    private EngineStatus CurrentStatus()
    {
        var stats = _state == EngineState.Ready ? _engine?.GetStats() : null;
        var kvUsage = stats is null || stats.BlocksTotal == 0 ? 0.0 : (double)stats.BlocksUsed / stats.BlocksTotal;
        return new EngineStatus(Id, silo.Value.SiloName, _device, _config.Model, _state, stats?.RunningCount ?? 0,
            stats?.WaitingCount ?? 0, Math.Round(kvUsage, 4), stats?.BlockSizeTokens ?? 0, stats?.MaxModelLength ?? 0, DateTime.UtcNow);
    }

    /// <summary>Publishes when something a router cares about changed (or every few seconds as a keep-alive).</summary>
    private async Task PublishStatusAsync(bool force)
    {
        var status = CurrentStatus();
        var stale = _published is null || status.UpdatedUtc - _published.UpdatedUtc > TimeSpan.FromSeconds(5);
        if (force || stale || _published!.State != status.State || _published.Running != status.Running
            || _published.Waiting != status.Waiting || Math.Abs(_published.KvUsage - status.KvUsage) >= 0.01)
        {
            _published = status;
            metrics.SetEngineStatus(status);
            await _statusStream!.OnNextAsync(status);
        }
    }

    private static SamplingOptions ToNative(SamplingSettings s) => new()
    {
        Temperature = s.Temperature,
        TopP = s.TopP,
        TopK = s.TopK,
        MinP = s.MinP,
        PresencePenalty = s.PresencePenalty,
        FrequencyPenalty = s.FrequencyPenalty,
        RepetitionPenalty = s.RepetitionPenalty,
        MaxTokens = s.MaxTokens,
        Seed = s.Seed,
        Logprobs = s.Logprobs,
        TopLogprobs = s.TopLogprobs,
        IgnoreEos = s.IgnoreEos,
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "Engine {Engine}: loading model {Model} from {Path}")]
    private static partial void LogLoading(ILogger logger, string engine, string model, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "Engine {Engine}: ready after {Seconds:F2} s ({WeightMiB:F0} MiB of {Dtype} weights, {KvBlocks} KV blocks of the {KvDtype} KV cache type)")]
    private static partial void LogLoaded(ILogger logger, string engine, double seconds, double weightMiB, string dtype, int kvBlocks, string kvDtype);

    [LoggerMessage(Level = LogLevel.Error, Message = "Engine {Engine}: loading {Path} failed")]
    private static partial void LogLoadFailed(ILogger logger, Exception exception, string engine, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "Engine {Engine}: idle for {Seconds} s, freeing its model and KV memory")]
    private static partial void LogIdle(ILogger logger, string engine, double seconds);
}
