using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace OrleansLlm.Runtime;

/// <summary>
/// A process that calls grains without hosting any (the gateway): it follows membership in the
/// cluster store and sends every call to a silo over HTTP/2.
/// </summary>
public sealed class ClusterClient : IGrainFactory, IAsyncDisposable
{
    private readonly MembershipView _view;
    private readonly SiloTransportClient _transport;
    private readonly MembershipAgent _agent;
    private readonly GrainFactory _factory;
    private readonly CancellationTokenSource _stopping = new();
    private Task _loop = Task.CompletedTask;

    public ClusterClient(ClusterOptions options, GrainRegistry registry, IClusterStore store, ILoggerFactory? loggerFactory = null)
    {
        var types = registry.Build();
        _view = new MembershipView(options.DeathTimeout);
        _transport = new SiloTransportClient(options);
        _factory = new GrainFactory(types, new CallPipeline(_view, _transport, options));
        _agent = new MembershipAgent(store, _view, options, _transport, null, null,
            (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<MembershipAgent>());
    }

    /// <summary>Silos this client currently sees as live.</summary>
    public IReadOnlyList<SiloRecord> LiveSilos => _view.LiveSilos;

    public async Task ConnectAsync(CancellationToken cancellationToken = default)
    {
        await _agent.JoinAsync(cancellationToken);
        _loop = Task.Run(() => _agent.RunAsync(_stopping.Token), CancellationToken.None);
    }

    public TGrain GetGrain<TGrain>(string key) where TGrain : IGrainWithStringKey => _factory.GetGrain<TGrain>(key);

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _loop;
        _transport.Dispose();
        _stopping.Dispose();
    }
}
