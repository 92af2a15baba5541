using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace OrleansLlm.Runtime;

/// <summary>Settings shared by silos and clients of one cluster.</summary>
public sealed class ClusterOptions
{
    /// <summary>Names the cluster; every Redis key of the cluster carries it.</summary>
    public string ClusterId { get; init; } = "default";

    /// <summary>How often a silo heartbeats and every process re-reads membership.</summary>
    public TimeSpan HeartbeatPeriod { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>A silo whose heartbeat is older than this (and that does not answer a probe) is declared dead.</summary>
    public TimeSpan DeathTimeout { get; init; } = TimeSpan.FromSeconds(8);

    /// <summary>Default time a call may take, retries of unexecuted attempts included.</summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Validates the certificates of silos that serve https (see <see cref="SiloOptions.TlsCertificate"/>); null uses the system's validation.</summary>
    public RemoteCertificateValidationCallback? RemoteCertificateValidation { get; init; }
}

/// <summary>Settings of one silo.</summary>
public sealed class SiloOptions
{
    /// <summary>Stable name of the silo (what pinned grain keys name), e.g. <c>gpu0</c>.</summary>
    public required string Name { get; init; }

    /// <summary>False in embedded mode: no HTTP endpoint, only local calls.</summary>
    public bool EnableTransport { get; init; } = true;

    public IPAddress ListenAddress { get; init; } = IPAddress.Loopback;

    /// <summary>0 picks a free port.</summary>
    public int Port { get; init; }

    /// <summary>Host name other processes use to reach this silo; defaults to the listen address.</summary>
    public string? AdvertisedHost { get; init; }

    public IReadOnlyDictionary<string, string> Capabilities { get; init; } = new Dictionary<string, string>();

    /// <summary>An activation idle for this long is deactivated.</summary>
    public TimeSpan CollectionAge { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>Serve https with this certificate (the silo's address in membership then says https); null serves cleartext HTTP/2.</summary>
    public X509Certificate2? TlsCertificate { get; init; }

    /// <summary>Application services handed to grains through <see cref="IGrainContext.Services"/>.</summary>
    public IServiceProvider? Services { get; init; }
}
