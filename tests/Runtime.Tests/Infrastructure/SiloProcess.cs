using System.Diagnostics;
using System.Text;

namespace OrleansLlm.Runtime.Tests;

/// <summary>A silo in its own OS process (Runtime.TestSilo), so a test can kill it outright.</summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();

    private SiloProcess(Process process, string name)
    {
        _process = process;
        Name = name;
    }

    public string Name { get; }

    public string Id { get; private set; } = "";

    public bool HasExited => _process.HasExited;

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    public static async Task<SiloProcess> StartAsync(string redis, string clusterId, string name)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "OrleansLlm.Runtime.TestSilo.dll");
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { dll, "--redis", redis, "--cluster", clusterId, "--name", name, "--lease-ms", "3000", "--heartbeat-ms", "300", "--death-ms", "3000" })
        {
            start.ArgumentList.Add(argument);
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException("test silo did not start");
        var silo = new SiloProcess(process, name);
        var ready = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                ready.TrySetException(new InvalidOperationException($"silo {name} exited before it was ready:\n{silo.Log}"));
                return;
            }
            silo.Append(e.Data);
            if (e.Data.StartsWith("READY ", StringComparison.Ordinal))
            {
                ready.TrySetResult(e.Data.Split(' ')[1]);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                silo.Append(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            silo.Id = await ready.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch
        {
            silo.Kill();
            throw;
        }
        return silo;
    }

    /// <summary>Kills the process without any shutdown: no deactivation, no deregistration.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
    }

    /// <summary>Freezes the process (SIGSTOP): it keeps its sockets and state but runs nothing, like a long GC pause or a VM stall.</summary>
    public void Pause() => Signal(19);

    /// <summary>Lets a paused process run again (SIGCONT).</summary>
    public void Resume() => Signal(18);

    private void Signal(int signal)
    {
        if (Kill(_process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed: {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}");
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    public async Task StopGracefullyAsync()
    {
        if (_process.HasExited)
        {
            return;
        }
        _process.StandardInput.Close();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopGracefullyAsync();
        _process.Dispose();
    }

    private void Append(string line)
    {
        lock (_log)
        {
            _log.AppendLine(line);
        }
    }
}
