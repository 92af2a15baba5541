using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace OrleansLlm.AppHost.Tests;

/// <summary>
/// The AppHost's manifest (`--publisher manifest`) checks the hand-written Azure Container Apps
/// templates: every setting the AppHost gives a silo or the gateway must be given by the matching
/// Bicep module too, so the local topology and the Azure one cannot drift apart unnoticed.
/// </summary>
public sealed class ManifestTests
{
    // settings that only make sense on a developer's machine, or that Container Apps sets itself
    private static readonly string[] LocalOnlyPrefixes = ["OTEL_", "ASPNETCORE_", "HTTP_PORTS"];

    [Fact]
    public async Task Every_setting_the_AppHost_gives_a_silo_or_the_gateway_is_set_by_the_aca_templates()
    {
        var manifest = await PublishManifestAsync();
        var resources = manifest["resources"]!.AsObject();
        Assert.Equal("executable.v0", (string?)resources["redis-server"]!["type"]);
        Assert.Equal("project.v0", (string?)resources["silo-0"]!["type"]);
        Assert.Equal("project.v0", (string?)resources["silo-1"]!["type"]);
        Assert.Equal("project.v0", (string?)resources["gateway"]!["type"]);

        var silo = File.ReadAllText(Path.Combine(RepositoryRoot, "deploy/aca/modules/silo.bicep"));
        var gateway = File.ReadAllText(Path.Combine(RepositoryRoot, "deploy/aca/modules/gateway.bicep"));

        var siloEnv = Environment(resources["silo-0"]!);
        // Container Apps replicas listen on the host's default ports, which the silo app opens as
        // additional TCP ports; the AppHost's first silo uses the same defaults
        Assert.Equal("11111", siloEnv["Cluster__SiloPort"]);
        Assert.Equal("30000", siloEnv["Cluster__GatewayPort"]);
        Assert.Contains("targetPort: 11111", silo);
        Assert.Contains("targetPort: 30000", silo);
        siloEnv.Remove("Cluster__SiloPort");
        siloEnv.Remove("Cluster__GatewayPort");

        var missing = siloEnv.Keys.Where(key => !SetsSetting(silo, key)).Select(key => "silo: " + key)
            .Concat(Environment(resources["gateway"]!).Keys.Where(key => !SetsSetting(gateway, key)).Select(key => "gateway: " + key))
            .ToList();
        Assert.True(missing.Count == 0, "settings the AppHost gives but deploy/aca does not: " + string.Join(", ", missing));
    }

    /// <summary>True when the Bicep text sets the setting as an environment variable (its name
    /// may hold <c>${...}</c> parts, matched as any text) or as a <c>--Section:Key</c> argument.</summary>
    private static bool SetsSetting(string bicep, string key)
    {
        var names = Regex.Matches(bicep, @"name: '([A-Za-z0-9_${}.\[\]]+)'").Select(match => match.Groups[1].Value);
        if (names.Any(name => Regex.IsMatch(key, "^" + string.Join(".+", Regex.Split(name, @"\$\{[^}]*\}").Select(Regex.Escape)) + "$")))
        {
            return true;
        }
        return bicep.Contains("--" + key.Replace("__", ":") + "=", StringComparison.Ordinal);
    }

    private static Dictionary<string, string> Environment(JsonNode resource) =>
        resource["env"]!.AsObject()
            .Where(entry => !LocalOnlyPrefixes.Any(prefix => entry.Key.StartsWith(prefix, StringComparison.Ordinal)))
            .ToDictionary(entry => entry.Key, entry => (string?)entry.Value ?? "");

    private static async Task<JsonNode> PublishManifestAsync()
    {
        var folder = Path.Combine(Path.GetTempPath(), "orleansllm-manifest-" + Guid.NewGuid().ToString("N")[..8]);
        var output = Path.Combine(folder, "aspire-manifest.json");
        // the AppHost as built beside this test (same configuration), run by the dotnet host
        var configuration = AppContext.BaseDirectory.Contains("/bin/Debug/", StringComparison.Ordinal) ? "Debug" : "Release";
        var appHost = Path.Combine(RepositoryRoot, "AppHost/bin", configuration, "net10.0/OrleansLlm.AppHost.dll");
        Assert.True(File.Exists(appHost), $"the AppHost is not built: {appHost}");
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { appHost, "--publisher", "manifest", "--output-path", output, $"--Artifacts={folder}" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = folder,
        };
        Directory.CreateDirectory(folder);
        try
        {
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException("the manifest publisher did not finish within 2 minutes");
            }
            Assert.True(process.ExitCode == 0, $"the manifest publisher exited {process.ExitCode}: {await stdout}{await stderr}");
            return JsonNode.Parse(await File.ReadAllTextAsync(output))!;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static string RepositoryRoot { get; } = FindRepositoryRoot();

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "OrleansLlm.sln")))
            {
                return directory.FullName;
            }
        }
        throw new InvalidOperationException($"no OrleansLlm.sln above {AppContext.BaseDirectory}");
    }
}
