using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace OrleansLlm.Runtime;

/// <summary>
/// Keeps a process in the cluster: on a silo it heartbeats (renewing the silo's lease), rejoins
/// as a new incarnation when told it was declared dead, and declares dead the silos whose
/// heartbeats are stale and that do not answer a direct probe; on every process it re-reads
/// membership into the <see cref="MembershipView"/>.
/// </summary>
internal sealed partial class MembershipAgent(
    IClusterStore store,
    MembershipView view,
    ClusterOptions options,
    SiloTransportClient transport,
    LocalSilo? silo,
    ActivationCatalog? catalog,
    ILogger logger)
{
    private static readonly TimeSpan s_probeTimeout = TimeSpan.FromSeconds(1);

    private long _storeTimeMs;

    /// <summary>Registers the silo and reads membership once (start-up).</summary>
    public async Task JoinAsync(CancellationToken cancellationToken)
    {
        if (silo is not null)
        {
            var sent = Stopwatch.GetTimestamp();
            await store.RegisterAsync(silo.Record, cancellationToken);
            silo.Lease.Renew(sent);
            LogJoined(silo.Id, silo.Record.Address);
        }
        await RefreshAsync(cancellationToken);
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(options.HeartbeatPeriod, cancellationToken);
                if (silo is not null)
                {
                    await HeartbeatAsync(silo, cancellationToken);
                }
                await RefreshAsync(cancellationToken);
                if (silo is not null)
                {
                    await DetectDeathsAsync(silo, cancellationToken);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                LogStoreFailed(e.Message);
            }
        }
    }

    private async Task HeartbeatAsync(LocalSilo local, CancellationToken cancellationToken)
    {
        var sent = Stopwatch.GetTimestamp();
        HeartbeatStatus status;
        try
        {
            status = await store.HeartbeatAsync(local.Id, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogHeartbeatFailed(local.Id, e.Message);
            if (!local.Lease.IsValid)
            {
                catalog?.DropAll();
            }
            return;
        }
        if (status == HeartbeatStatus.Ok)
        {
            local.Lease.Renew(sent);
            return;
        }
        // this incarnation is over: its grains may already live elsewhere
        local.Lease.Revoke();
        catalog?.DropAll();
        var previous = local.Id;
        var record = local.NewIncarnation();
        LogRejoining(previous, status.ToString(), record.Id);
        var registered = Stopwatch.GetTimestamp();
        await store.RegisterAsync(record, cancellationToken);
        local.Lease.Renew(registered);
    }

    private async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var snapshot = await store.ReadMembershipAsync(cancellationToken);
        _storeTimeMs = snapshot.StoreTimeMs;
        view.Update(snapshot);
    }

    private async Task DetectDeathsAsync(LocalSilo local, CancellationToken cancellationToken)
    {
        foreach (var other in view.AllSilos)
        {
            if (other.Id == local.Id || other.Status == SiloStatus.Dead
                || _storeTimeMs - other.HeartbeatMs <= options.DeathTimeout.TotalMilliseconds)
            {
                continue;
            }
            // a stale heartbeat alone may be the store's fault (e.g. it restarted): ask the silo itself
            if (other.Address.StartsWith("http", StringComparison.Ordinal) && await transport.ProbeAsync(other, s_probeTimeout))
            {
                continue;
            }
            if (await store.DeclareDeadAsync(other.Id, options.DeathTimeout, cancellationToken))
            {
                LogDeclaredDead(other.Id, _storeTimeMs - other.HeartbeatMs);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "silo {SiloId} joined at {Address}")]
    private partial void LogJoined(string siloId, string address);

    [LoggerMessage(Level = LogLevel.Warning, Message = "silo {SiloId} could not heartbeat: {Reason}")]
    private partial void LogHeartbeatFailed(string siloId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "silo {SiloId} was told {Status}; rejoining as {NewSiloId}")]
    private partial void LogRejoining(string siloId, string status, string newSiloId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "declared silo {SiloId} dead (no heartbeat for {SilentMs} ms, no answer to a probe)")]
    private partial void LogDeclaredDead(string siloId, long silentMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "cluster store operation failed: {Reason}")]
    private partial void LogStoreFailed(string reason);
}
