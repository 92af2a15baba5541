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

    private readonly StreamWriter _log;
    private bool _logClosed;

    private SiloProcess(string name, Process process, string logPath)
    {
        Name = name;
        _process = process;
        LogPath = logPath;
        _log = new StreamWriter(logPath) { AutoFlush = true };
    }

    /// <summary>Everything the silo printed, under artifacts/silo-logs/.</summary>
    public string LogPath { get; }

    public string Name { get; }

    /// <summary>True once the test killed it (SIGKILL).</summary>
    public bool Killed { get; private set; }

    /// <summary>When the test killed it (UTC).</summary>
    public DateTime? KilledAt { get; private set; }

    /// <summary>The Orleans silo address it printed when ready (as its log names it, S{ip}:{port}:{generation}).</summary>
    public string? SiloAddress { get; private set; }

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
            // membership events (suspicions, death declarations) go to the silo's log file
            "--Logging:LogLevel:Orleans.Runtime.MembershipService=Information",
        }.Concat(extraArgs))
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        var process = Process.Start(start) ?? throw new InvalidOperationException($"silo {name} did not start");
        var silo = new SiloProcess(name, process, Path.Combine(TestPaths.ArtifactsDirectory("silo-logs"), $"{clusterId}-{name}.log"));
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
        KilledAt = DateTime.UtcNow;
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
        lock (_log)
        {
            _logClosed = true;
            _log.Dispose();
        }
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_log)
        {
            if (!_logClosed)
            {
                _log.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {line}");
            }
        }
        if (line.StartsWith("READY ", StringComparison.Ordinal))
        {
            var parts = line.Split(' ');
            SiloAddress = parts.Length > 2 ? parts[2] : null;
            _ready.TrySetResult();
        }
        _lastLines.Enqueue(line);
        while (_lastLines.Count > 40 && _lastLines.TryDequeue(out _))
        {
        }
    }
}
