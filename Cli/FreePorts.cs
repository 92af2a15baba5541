using System.Net;
using System.Net.Sockets;

namespace OrleansLlm.Cli;

/// <summary>TCP ports nobody listens on now (the OS's pick for port 0), for the silos the CLI starts.</summary>
internal static class FreePorts
{
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
