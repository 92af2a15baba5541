namespace OrleansLlm.Runtime;

/// <summary>This process's silo identity (the id changes when the silo rejoins after being declared dead) and its lease.</summary>
internal sealed class LocalSilo(SiloOptions options, string address, TimeSpan leaseDuration)
{
    private volatile SiloRecord _record = NewRecord(options, address);

    public SiloRecord Record => _record;

    public string Id => _record.Id;

    public string Name => options.Name;

    public SiloOptions Options => options;

    public SiloLease Lease { get; } = new(leaseDuration);

    /// <summary>Starts a new incarnation with a fresh id.</summary>
    public SiloRecord NewIncarnation() => _record = NewRecord(options, _record.Address);

    public void SetAddress(string newAddress) => _record = _record with { Address = newAddress };

    private static SiloRecord NewRecord(SiloOptions options, string address) =>
        new($"{options.Name}-{DateTime.UtcNow.Ticks:x}-{Random.Shared.Next(0x10000):x4}", options.Name, address, options.Capabilities, SiloStatus.Active, 0);
}
