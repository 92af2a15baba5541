using System.Diagnostics;

namespace OrleansLlm.Platform.Tests;

/// <summary>
/// The platform as containers (<c>deploy/containers/cluster.sh</c>, images from build-images.sh):
/// what <see cref="PlatformFixture"/> runs against when ORLEANSLLM_PLATFORM_TARGET=containers.
/// Silos are killed with <c>docker kill</c> (SIGKILL, as a crash) and started again with <c>docker start</c>.
/// </summary>
public sealed class ContainerCluster(string repoRoot, string logDir)
{
    private readonly string _prefix = "olmtest-" + Guid.NewGuid().ToString("N")[..6];

    public static bool Requested =>
        string.Equals(Environment.GetEnvironmentVariable("ORLEANSLLM_PLATFORM_TARGET"), "containers", StringComparison.OrdinalIgnoreCase);

    /// <summary>Redis, the silos and the gateway; <paramref name="siloModelArgs"/> name the models under /models.</summary>
    public async Task UpAsync(int silos, int gatewayPort, string modelsDir, IEnumerable<string> siloModelArgs, IEnumerable<string> siloArgs, IEnumerable<string> gatewayArgs)
    {
        var env = new Dictionary<string, string>
        {
            ["SILO_MODEL_ARGS"] = string.Join(' ', siloModelArgs),
            ["SILO_ARGS"] = string.Join(' ', siloArgs),
            ["GATEWAY_ARGS"] = string.Join(' ', gatewayArgs),
        };
        await RunAsync(["up", "--silos", silos.ToString(), "--port", gatewayPort.ToString(), "--models", modelsDir], env, TimeSpan.FromMinutes(4));
    }

    public Task KillAsync(string member) => RunAsync(["kill", member], [], TimeSpan.FromSeconds(30));

    public Task StartAsync(string member) => RunAsync(["start", member], [], TimeSpan.FromMinutes(3));

    public bool IsRunning(string member) =>
        Docker(["inspect", "-f", "{{.State.Running}}", $"{_prefix}-{member}"]).Trim() == "true";

    public string Logs(string member, int lines) => Docker(["logs", "--tail", lines.ToString(), $"{_prefix}-{member}"]);

    public Task DownAsync() => RunAsync(["down"], [], TimeSpan.FromMinutes(1));

    private async Task RunAsync(string[] args, Dictionary<string, string> env, TimeSpan timeout)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = repoRoot };
        info.ArgumentList.Add(Path.Combine(repoRoot, "deploy", "containers", "cluster.sh"));
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }
        info.Environment["CLUSTER_PREFIX"] = _prefix;
        info.Environment["CLUSTER_ID"] = _prefix;
        foreach (var (key, value) in env)
        {
            info.Environment[key] = value;
        }
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"cluster.sh {string.Join(' ', args)} did not finish within {timeout.TotalSeconds} s");
        }
        var output = await stdout + await stderr;
        await File.AppendAllTextAsync(Path.Combine(logDir, "cluster-sh.log"), $"$ cluster.sh {string.Join(' ', args)}\n{output}\n");
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"cluster.sh {string.Join(' ', args)} failed (exit {process.ExitCode}): {output}");
        }
    }

    private static string Docker(string[] args)
    {
        var info = new ProcessStartInfo("docker") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return output + stderr.Result;
    }
}
