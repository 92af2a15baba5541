using System.Net;
using System.Net.Sockets;

namespace OrleansLlm.Tests.Shared;

/// <summary>TCP ports nobody listens on now, for the processes a test starts (linked into each test project).</summary>
internal static class FreePorts
{
    /// <summary>The OS's pick for port 0.</summary>
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
