using System.Diagnostics;

namespace OrleansLlm.Runtime;

/// <summary>
/// The cluster store of embedded mode: the same rules as <see cref="RedisClusterStore"/>, kept in
/// this process's memory (several silos of one process may share it).
/// </summary>
public sealed class InMemoryClusterStore(TimeSpan leaseDuration) : IClusterStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, SiloRecord> _silos = [];
    private readonly Dictionary<GrainId, (string? SiloId, long Epoch)> _directory = [];
    private readonly long _origin = Stopwatch.GetTimestamp();

    public TimeSpan LeaseDuration { get; } = leaseDuration;

    private long NowMs => (long)Stopwatch.GetElapsedTime(_origin).TotalMilliseconds + 1;

    public Task RegisterAsync(SiloRecord silo, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _silos[silo.Id] = silo with { Status = SiloStatus.Active, HeartbeatMs = NowMs };
        }
        return Task.CompletedTask;
    }

    public Task<HeartbeatStatus> HeartbeatAsync(string siloId, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (!_silos.TryGetValue(siloId, out var silo))
            {
                return Task.FromResult(HeartbeatStatus.Unknown);
            }
            var now = NowMs;
            if (silo.Status == SiloStatus.Dead || now - silo.HeartbeatMs > LeaseDuration.TotalMilliseconds)
            {
                _silos[siloId] = silo with { Status = SiloStatus.Dead };
                return Task.FromResult(HeartbeatStatus.Dead);
            }
            _silos[siloId] = silo with { HeartbeatMs = now };
            return Task.FromResult(HeartbeatStatus.Ok);
        }
    }

    public Task<MembershipSnapshot> ReadMembershipAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult(new MembershipSnapshot([.. _silos.Values], NowMs));
        }
    }

    public Task<bool> DeclareDeadAsync(string siloId, TimeSpan deathTimeout, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_silos.TryGetValue(siloId, out var silo) && silo.Status != SiloStatus.Dead && NowMs - silo.HeartbeatMs > deathTimeout.TotalMilliseconds)
            {
                _silos[siloId] = silo with { Status = SiloStatus.Dead };
                return Task.FromResult(true);
            }
            return Task.FromResult(false);
        }
    }

    public Task SetStatusAsync(string siloId, SiloStatus status, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_silos.TryGetValue(siloId, out var silo) && silo.Status != SiloStatus.Dead)
            {
                _silos[siloId] = silo with { Status = status };
            }
        }
        return Task.CompletedTask;
    }

    public Task DeregisterAsync(string siloId, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _silos.Remove(siloId);
        }
        return Task.CompletedTask;
    }

    public Task<AcquireResult> TryAcquireAsync(GrainId grainId, string siloId, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var now = NowMs;
            var entry = _directory.GetValueOrDefault(grainId);
            if (entry.SiloId is not null && entry.SiloId != siloId && IsLive(entry.SiloId, now, out var owner))
            {
                return Task.FromResult(new AcquireResult(AcquireStatus.OwnedElsewhere, entry.Epoch, owner.Id, owner.Address));
            }
            if (!IsLive(siloId, now, out var self) || self.Status != SiloStatus.Active)
            {
                return Task.FromResult(new AcquireResult(AcquireStatus.NotAllowed, 0, null, null));
            }
            var epoch = entry.Epoch + 1;
            _directory[grainId] = (siloId, epoch);
            return Task.FromResult(new AcquireResult(AcquireStatus.Acquired, epoch, siloId, self.Address));
        }
    }

    public Task ReleaseAsync(GrainId grainId, string siloId, long epoch, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_directory.TryGetValue(grainId, out var entry) && entry.SiloId == siloId && entry.Epoch == epoch)
            {
                _directory[grainId] = (null, epoch);
            }
        }
        return Task.CompletedTask;
    }

    /// <summary>True if the fence still owns the grain under a live lease (checked with every write).</summary>
    internal bool Owns(GrainId grainId, ActivationFence fence)
    {
        lock (_lock)
        {
            return _directory.TryGetValue(grainId, out var entry)
                && entry.SiloId == fence.SiloId && entry.Epoch == fence.Epoch
                && IsLive(fence.SiloId, NowMs, out _);
        }
    }

    // a lease is live while its silo's heartbeat is younger than the lease duration (dead or not:
    // a silo declared dead may still run until its own deadline passes)
    private bool IsLive(string siloId, long now, out SiloRecord silo) =>
        _silos.TryGetValue(siloId, out silo!) && now - silo.HeartbeatMs <= LeaseDuration.TotalMilliseconds;
}
