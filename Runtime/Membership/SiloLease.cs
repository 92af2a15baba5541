using System.Diagnostics;

namespace OrleansLlm.Runtime;

/// <summary>
/// The local side of this silo's lease: valid until the last successful heartbeat's send time plus
/// the lease duration less a safety margin, measured on the monotonic clock. The store lets
/// another silo take this silo's grains only after its own view of the lease has run out, which
/// is never earlier than this deadline.
/// </summary>
internal sealed class SiloLease(TimeSpan leaseDuration)
{
    private long _deadline;

    public bool IsValid => Stopwatch.GetTimestamp() < Volatile.Read(ref _deadline);

    /// <summary>Extends the lease after a heartbeat sent at <paramref name="sentTimestamp"/> succeeded.</summary>
    public void Renew(long sentTimestamp)
    {
        // 10 % margin for clock-rate drift between this machine and the store
        var deadline = sentTimestamp + (long)(leaseDuration.TotalSeconds * 0.9 * Stopwatch.Frequency);
        Volatile.Write(ref _deadline, deadline);
    }

    public void Revoke() => Volatile.Write(ref _deadline, 0);
}
