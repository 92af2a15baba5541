namespace OrleansLlm.Runtime;

public enum SiloStatus
{
    Active,
    ShuttingDown,
    Dead,
}

/// <summary>
/// A silo as the cluster store records it. <see cref="Id"/> is unique per process start
/// (name plus generation); <see cref="Name"/> is stable and is what pinned keys refer to.
/// </summary>
public sealed record SiloRecord(
    string Id,
    string Name,
    string Address,
    IReadOnlyDictionary<string, string> Capabilities,
    SiloStatus Status,
    long HeartbeatMs);

/// <summary>The membership table at one instant of the store's clock.</summary>
public sealed record MembershipSnapshot(IReadOnlyList<SiloRecord> Silos, long StoreTimeMs);
