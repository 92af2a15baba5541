namespace OrleansLlm.Runtime;

public enum HeartbeatStatus
{
    Ok,

    /// <summary>The store no longer knows this silo (it was removed, or the store lost its data).</summary>
    Unknown,

    /// <summary>The silo was declared dead, or its lease lapsed in the store; this incarnation is over.</summary>
    Dead,
}

public enum AcquireStatus
{
    Acquired,

    /// <summary>A live silo holds the grain; the call goes there.</summary>
    OwnedElsewhere,

    /// <summary>This silo is not a live member (or the store was reset less than a lease ago); retry later.</summary>
    NotAllowed,
}

public readonly record struct AcquireResult(AcquireStatus Status, long Epoch, string? OwnerSiloId, string? OwnerAddress);

/// <summary>
/// The cluster substrate: membership with heartbeats, and the grain directory whose entries are
/// activation leases. An entry (silo, epoch) is valid while its silo's heartbeat is younger than
/// the lease duration; a silo whose heartbeat lapsed longer than that may never renew it (its
/// next heartbeat is answered <see cref="HeartbeatStatus.Dead"/>), so a grain is taken over only
/// once its previous owner has provably stopped (it stops itself before its local lease deadline).
/// Every (re)acquisition increments the grain's epoch, which fences persisted-state writes.
/// </summary>
public interface IClusterStore
{
    TimeSpan LeaseDuration { get; }

    Task RegisterAsync(SiloRecord silo, CancellationToken cancellationToken);

    Task<HeartbeatStatus> HeartbeatAsync(string siloId, CancellationToken cancellationToken);

    Task<MembershipSnapshot> ReadMembershipAsync(CancellationToken cancellationToken);

    /// <summary>Marks a silo dead if its heartbeat is still older than <paramref name="deathTimeout"/>; true if this call declared it.</summary>
    Task<bool> DeclareDeadAsync(string siloId, TimeSpan deathTimeout, CancellationToken cancellationToken);

    Task SetStatusAsync(string siloId, SiloStatus status, CancellationToken cancellationToken);

    Task DeregisterAsync(string siloId, CancellationToken cancellationToken);

    Task<AcquireResult> TryAcquireAsync(GrainId grainId, string siloId, CancellationToken cancellationToken);

    /// <summary>Releases the directory entry if (silo, epoch) still holds it.</summary>
    Task ReleaseAsync(GrainId grainId, string siloId, long epoch, CancellationToken cancellationToken);
}
