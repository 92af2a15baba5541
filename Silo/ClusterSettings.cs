using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace OrleansLlm.Silo;

public enum ClusterMode
{
    /// <summary>Silos find each other through Redis; sessions, registry and stream subscriptions persist there.</summary>
    Redis,

    /// <summary>One process (<c>orleansllm serve</c>): localhost clustering, memory storage, in-memory prefix index.</summary>
    Localhost,
}

/// <summary>The "Cluster" configuration section.</summary>
public sealed class ClusterSettings
{
    public const string Section = "Cluster";

    public ClusterMode Mode { get; set; } = ClusterMode.Redis;

    public string ClusterId { get; set; } = "orleansllm";

    /// <summary>Names the silo in membership and in engine ids; defaults to silo-{pid}.</summary>
    public string? SiloName { get; set; }

    public int SiloPort { get; set; } = 11111;

    public int GatewayPort { get; set; } = 30000;

    /// <summary>The address other silos and clients reach this one at: an IP address, or <c>auto</c>
    /// for this host's first IPv4 address that is not loopback (a container on a user-defined network).</summary>
    public string AdvertisedAddress { get; set; } = "127.0.0.1";

    /// <summary>
    /// Failure detection: a silo that misses <see cref="MissedProbesLimit"/> probes of
    /// <see cref="ProbeTimeoutSeconds"/> is declared dead, and its grains activate elsewhere.
    /// Orleans' defaults take ~30 s; these bring a killed silo's grains back in ~2.5 s on one network.
    /// Three misses, not two: on a starved machine (CI, two cores, six silos) two missed 1 s probes
    /// got a live silo declared dead, and until it learns that and stops, its activations run beside
    /// the new ones (the chaos test's duplicate activations).
    /// </summary>
    public double ProbeTimeoutSeconds { get; set; } = 1;

    public int MissedProbesLimit { get; set; } = 3;

    /// <summary>A grain call with no answer after this long fails (streams wait per item, not in all).</summary>
    public double ResponseTimeoutSeconds { get; set; } = 30;

    public IPAddress ResolveAdvertisedAddress()
    {
        if (!string.Equals(AdvertisedAddress, "auto", StringComparison.OrdinalIgnoreCase))
        {
            return IPAddress.TryParse(AdvertisedAddress, out var address)
                ? address
                : throw new InvalidOperationException($"Cluster:AdvertisedAddress '{AdvertisedAddress}' is neither an IP address nor 'auto'");
        }
        return NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a))
            ?? throw new InvalidOperationException("Cluster:AdvertisedAddress is 'auto' but this host has no IPv4 address other than loopback");
    }
}
