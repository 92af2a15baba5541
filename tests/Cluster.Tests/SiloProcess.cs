using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using OrleansLlm.Tests.Shared;

namespace OrleansLlm.Cluster.Tests;

/// <summary>One Cluster.TestSilo process (a real silo on Redis clustering), started with `dotnet`.</summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lastLines = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private SiloProcess(string name, Process process)
    {
        Name = name;
        _process = process;
    }

    public string Name { get; }

    /// <summary>True once the test killed it (SIGKILL).</summary>
    public bool Killed { get; private set; }

    public bool HasExited => _process.HasExited;

    public int ProcessId => _process.Id;

    /// <summary>Starts a silo and waits until it prints READY (it is then an active member).</summary>
    public static async Task<SiloProcess> StartAsync(string name, string redis, string clusterId, TimeSpan timeout, params string[] extraArgs)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(TestPaths.TestSiloDll)!,
        };
        start.ArgumentList.Add(TestPaths.TestSiloDll);
        foreach (var arg in new[]
        {
            "--Cluster:Mode=Redis",
            $"--ConnectionStrings:redis={redis}",
            $"--Cluster:ClusterId={clusterId}",
            $"--Cluster:SiloName={name}",
            $"--Cluster:SiloPort={FreePorts.Next().ToString(CultureInfo.InvariantCulture)}",
            $"--Cluster:GatewayPort={FreePorts.Next().ToString(CultureInfo.InvariantCulture)}",
            "--urls=http://127.0.0.1:0",
            "--Logging:LogLevel:Default=Warning",
            "--Logging:LogLevel:Orleans=Warning",
        }.Concat(extraArgs))
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        var process = Process.Start(start) ?? throw new InvalidOperationException($"silo {name} did not start");
        var silo = new SiloProcess(name, process);
        process.OutputDataReceived += (_, e) => silo.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => silo.OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var exited = process.WaitForExitAsync();
        var first = await Task.WhenAny(silo._ready.Task, exited, Task.Delay(timeout));
        if (first != silo._ready.Task)
        {
            var why = first == exited ? $"exited with {process.ExitCode}" : $"not ready after {timeout.TotalSeconds} s";
            await silo.DisposeAsync();
            throw new InvalidOperationException($"silo {name} {why}; last output:\n{silo.LastOutput}");
        }
        return silo;
    }

    public string LastOutput => string.Join('\n', _lastLines);

    /// <summary>SIGKILL: no shutdown, no deactivation, sockets simply go dead.</summary>
    public void Kill()
    {
        Killed = true;
        _process.Kill(entireProcessTree: false);
        _process.WaitForExit();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }
        if (line.StartsWith("READY ", StringComparison.Ordinal))
        {
            _ready.TrySetResult();
        }
        _lastLines.Enqueue(line);
        while (_lastLines.Count > 40 && _lastLines.TryDequeue(out _))
        {
        }
    }
}
