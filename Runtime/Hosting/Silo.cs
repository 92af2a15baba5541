using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace OrleansLlm.Runtime;

/// <summary>
/// A silo: hosts activations of the registered grain classes, serves calls over HTTP/2 (unless
/// embedded), heartbeats into the cluster store, collects idle activations, and on
/// <see cref="StopAsync"/> deactivates its grains and leaves the cluster.
/// </summary>
public sealed partial class Silo : IAsyncDisposable
{
    private readonly SiloOptions _options;
    private readonly ClusterOptions _cluster;
    private readonly ClusterBackend _backend;
    private readonly GrainTypeCatalog _types;
    private readonly LocalSilo _local;
    private readonly MembershipView _view;
    private readonly SiloTransportClient _transport;
    private readonly ActivationCatalog _catalog;
    private readonly CallPipeline _pipeline;
    private readonly MembershipAgent _agent;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private WebApplication? _web;
    private Task _loops = Task.CompletedTask;
    private int _state; // 0 new, 1 started, 2 stopped

    public Silo(SiloOptions options, ClusterOptions cluster, GrainRegistry registry, ClusterBackend backend, ILoggerFactory? loggerFactory = null,
        IReadOnlyDictionary<string, IGrainStorage>? extraStorages = null)
    {
        _options = options;
        _cluster = cluster;
        _backend = backend;
        loggerFactory ??= NullLoggerFactory.Instance;
        _logger = loggerFactory.CreateLogger<Silo>();
        _types = registry.Build();
        _local = new LocalSilo(options, $"local://{options.Name}", backend.Store.LeaseDuration);
        _view = new MembershipView(cluster.DeathTimeout);
        _transport = new SiloTransportClient(cluster);
        var storages = new Dictionary<string, IGrainStorage>(extraStorages ?? new Dictionary<string, IGrainStorage>()) { ["Default"] = backend.Storage };
        _catalog = new ActivationCatalog(_local, backend.Store, _types, storages, loggerFactory.CreateLogger<ActivationCatalog>());
        _pipeline = new CallPipeline(_view, _transport, cluster) { Local = (_local, _catalog) };
        GrainFactory = new GrainFactory(_types, _pipeline);
        _catalog.GrainFactory = GrainFactory;
        _agent = new MembershipAgent(backend.Store, _view, cluster, _transport, _local, _catalog, loggerFactory.CreateLogger<MembershipAgent>());
    }

    /// <summary>Creates a one-process cluster (embedded mode): in-memory store, no network endpoint.</summary>
    public static Silo CreateEmbedded(GrainRegistry registry, string name = "embedded", ILoggerFactory? loggerFactory = null) =>
        new(new SiloOptions { Name = name, EnableTransport = false }, new ClusterOptions { ClusterId = "embedded" }, registry,
            ClusterBackend.InMemory(), loggerFactory);

    public IGrainFactory GrainFactory { get; }

    /// <summary>Current incarnation id (changes if the silo had to rejoin).</summary>
    public string Id => _local.Id;

    public string Name => _options.Name;

    /// <summary>Base URL of the silo's HTTP/2 endpoint (<c>local://name</c> when embedded).</summary>
    public string Address => _local.Record.Address;

    public int ActivationCount => _catalog.Count;

    /// <summary>How many silos this silo currently sees as live (itself included).</summary>
    public int LiveSiloCount => _view.LiveSilos.Count;

    /// <summary>True while the silo's lease is valid (it may run grain turns).</summary>
    public bool IsHealthy => _local.Lease.IsValid;

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.CompareExchange(ref _state, 1, 0) != 0)
        {
            throw new InvalidOperationException("a silo starts once");
        }
        if (_options.EnableTransport)
        {
            await StartTransportAsync(cancellationToken);
        }
        await _agent.JoinAsync(cancellationToken);
        _loops = Task.WhenAll(
            Task.Run(() => _agent.RunAsync(_stopping.Token), CancellationToken.None),
            Task.Run(() => WatchAsync(_stopping.Token), CancellationToken.None));
        LogStarted(_local.Id, Address);
    }

    /// <summary>Graceful shutdown: announce, deactivate every grain (state writes allowed), deregister, close the endpoint.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _state, 2) != 1)
        {
            return;
        }
        try
        {
            await _backend.Store.SetStatusAsync(_local.Id, SiloStatus.ShuttingDown, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogStopStep("announce", e.Message);
        }
        await _catalog.DeactivateAllAsync();
        await _stopping.CancelAsync();
        await _loops;
        try
        {
            await _backend.Store.DeregisterAsync(_local.Id, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogStopStep("deregister", e.Message);
        }
        if (_web is not null)
        {
            await _web.StopAsync(cancellationToken);
            await _web.DisposeAsync();
        }
        _transport.Dispose();
        LogStopped(_local.Id);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stopping.Dispose();
    }

    private async Task StartTransportAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.Http2.MaxStreamsPerConnection = 1000;
            kestrel.Listen(_options.ListenAddress, _options.Port, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                if (_options.TlsCertificate is { } certificate)
                {
                    listen.UseHttps(certificate);
                }
            });
        });
        builder.Services.AddSingleton(_ => _logger);
        _web = builder.Build();
        var endpoint = new SiloEndpoint(_catalog, _types, _local);
        _web.Run(endpoint.HandleAsync);
        await _web.StartAsync(cancellationToken);
        var bound = _web.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
            .Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var port = new Uri(bound).Port;
        var host = _options.AdvertisedHost ?? _options.ListenAddress.ToString();
        var scheme = _options.TlsCertificate is null ? "http" : "https";
        _local.SetAddress($"{scheme}://{host}:{port}");
    }

    // lease watchdog and idle collection
    private async Task WatchAsync(CancellationToken cancellationToken)
    {
        var tick = TimeSpan.FromTicks(Math.Max(_cluster.HeartbeatPeriod.Ticks / 4, TimeSpan.FromMilliseconds(50).Ticks));
        var collectEvery = TimeSpan.FromTicks(Math.Clamp(_options.CollectionAge.Ticks / 4, TimeSpan.FromMilliseconds(100).Ticks, TimeSpan.FromMinutes(1).Ticks));
        var lastCollection = Stopwatch.GetTimestamp();
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(tick, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            if (!_local.Lease.IsValid && _catalog.Count > 0)
            {
                _catalog.DropAll();
            }
            if (Stopwatch.GetElapsedTime(lastCollection) > collectEvery)
            {
                lastCollection = Stopwatch.GetTimestamp();
                _catalog.CollectIdle(_options.CollectionAge);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "silo {SiloId} started at {Address}")]
    private partial void LogStarted(string siloId, string address);

    [LoggerMessage(Level = LogLevel.Information, Message = "silo {SiloId} stopped")]
    private partial void LogStopped(string siloId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "shutdown step {Step} failed: {Reason}")]
    private partial void LogStopStep(string step, string reason);
}
