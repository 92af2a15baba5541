using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Aspire.Hosting;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;
using OrleansLlm.Tests.Shared;

namespace OrleansLlm.AppHost.Tests;

/// <summary>
/// The AppHost as a developer runs it (redis-server, the demo model, two silos, the gateway), started
/// through Aspire.Hosting.Testing on free ports with its own temporary artifacts folder, so it does
/// not collide with a developer's running AppHost. Disposing the app stops every process it started.
/// </summary>
public sealed class AppHostTests(ITestOutputHelper output)
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task AppHost_with_two_silos_serves_health_and_lists_both_silos_and_engines()
    {
        var artifacts = Path.Combine(Path.GetTempPath(), "orleansllm-apphost-test-" + Guid.NewGuid().ToString("N")[..8]);
        var gatewayPort = FreePorts.Next();
        var redisPort = FreePorts.Next();
        var siloPort = FreePortRange(2);
        var siloGatewayPort = FreePortRange(2);
        string[] args =
        [
            "--Silos=2",
            $"--GatewayPort={gatewayPort}",
            $"--RedisPort={redisPort}",
            $"--SiloPort={siloPort}",
            $"--SiloGatewayPort={siloGatewayPort}",
            $"--Artifacts={artifacts}",
            // the testing builder moves fixed endpoint ports to random ones; these ports are free,
            // so the gateway listens where --GatewayPort says, as in a developer's run
            "--DcpPublisher:RandomizePorts=false",
        ];
        output.WriteLine($"args: {string.Join(' ', args)}");
        var total = Stopwatch.StartNew();
        List<string> left;
        try
        {
            using var cancel = new CancellationTokenSource(StartTimeout);
            var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(args, cancel.Token);
            // the resources' own output at Information is thousands of lines; warnings and errors
            // (a resource's stderr among them) stay, the silos' health probes while they start do not
            builder.Services.AddLogging(logging => logging
                .SetMinimumLevel(LogLevel.Warning)
                .AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.None));
            await using var app = await builder.BuildAsync(cancel.Token);
            await app.StartAsync(cancel.Token);
            output.WriteLine($"AppHost started (orchestrator up, resources launching) after {total.Elapsed.TotalSeconds:F1} s");
            try
            {
                await app.ResourceNotifications.WaitForResourceHealthyAsync("gateway", cancel.Token);
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                throw new TimeoutException($"the gateway was not healthy within {StartTimeout.TotalMinutes} minutes");
            }
            output.WriteLine($"gateway healthy after {total.Elapsed.TotalSeconds:F1} s");

            using var http = app.CreateHttpClient("gateway");
            output.WriteLine($"gateway at {http.BaseAddress}");
            Assert.Equal(gatewayPort, http.BaseAddress!.Port);

            using var health = await http.GetAsync("/health", cancel.Token);
            var healthBody = await health.Content.ReadAsStringAsync(cancel.Token);
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            Assert.Equal("Healthy", healthBody);

            var clusterText = await http.GetStringAsync("/admin/cluster", cancel.Token);
            output.WriteLine($"/admin/cluster: {clusterText}");
            var cluster = JsonNode.Parse(clusterText)!;
            var active = cluster["silos"]!.AsArray()
                .Where(s => (string?)s!["status"] == "active")
                .Select(s => (string)s!["id"]!)
                .ToHashSet();
            Assert.Contains("silo-0", active);
            Assert.Contains("silo-1", active);
            var engines = cluster["engines"]!.AsArray();
            Assert.Equal(2, engines.Count);
            Assert.Equal(["silo-0", "silo-1"], engines.Select(e => (string)e!["silo"]!).Order());
            output.WriteLine($"checks passed after {total.Elapsed.TotalSeconds:F1} s");
        }
        finally
        {
            output.WriteLine($"stopped and disposed after {total.Elapsed.TotalSeconds:F1} s");
            left = await LeftoverProcessesAsync($"127.0.0.1:{redisPort}");
            output.WriteLine(left.Count == 0 ? "no process of this AppHost is left" : $"left: {string.Join("; ", left)}");
            try
            {
                Directory.Delete(artifacts, recursive: true);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        Assert.True(left.Count == 0, $"processes of this AppHost survived its disposal: {string.Join("; ", left)}");
    }

    /// <summary>
    /// Processes (Linux) whose command line or environment names <paramref name="marker"/>: redis-server
    /// shows its address in its title, silos and the gateway have it in ConnectionStrings__redis. Polled
    /// for a while: the orchestrator's children may take a moment to exit after the app is disposed.
    /// </summary>
    private static async Task<List<string>> LeftoverProcessesAsync(string marker)
    {
        var left = new List<string>();
        if (!OperatingSystem.IsLinux())
        {
            return left;
        }
        for (var attempt = 0; attempt < 30; attempt++)
        {
            left.Clear();
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(dir), out var pid) || pid == Environment.ProcessId)
                {
                    continue;
                }
                try
                {
                    var cmdline = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                    var environ = File.ReadAllText(Path.Combine(dir, "environ"));
                    if (cmdline.Contains(marker, StringComparison.Ordinal) || environ.Contains(marker, StringComparison.Ordinal))
                    {
                        left.Add($"{pid}: {cmdline.Trim()}");
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // gone, or not ours to read
                }
            }
            if (left.Count == 0)
            {
                break;
            }
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
        return left;
    }

    /// <summary>The first of <paramref name="count"/> consecutive free ports (the AppHost gives silo i base + i).</summary>
    private static int FreePortRange(int count)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var first = FreePorts.Next();
            if (first + count - 1 > IPEndPoint.MaxPort)
            {
                continue;
            }
            var listeners = new List<TcpListener>();
            try
            {
                for (var i = 1; i < count; i++)
                {
                    var listener = new TcpListener(IPAddress.Loopback, first + i);
                    listener.Start();
                    listeners.Add(listener);
                }
                return first;
            }
            catch (SocketException)
            {
            }
            finally
            {
                listeners.ForEach(l => l.Stop());
            }
        }
        throw new InvalidOperationException($"no {count} consecutive free ports");
    }
}
