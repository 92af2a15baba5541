using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Text;
using System.Text.Json.Nodes;
using OrleansLlm.Tests.Shared;

namespace OrleansLlm.Platform.Tests;

[CollectionDefinition(Name)]
public sealed class PlatformCollection : ICollectionFixture<PlatformFixture>
{
    public const string Name = "platform";
}

/// <summary>
/// A real cluster, started once for every test: a model made with <c>orleansllm make-model</c>, a
/// redis-server, two silo processes (silo-0 and silo-1, one CPU engine each on the tiny model) and
/// a gateway process, all on free ports in a temp folder. Torn down (process trees killed) at the end.
/// </summary>
public sealed class PlatformFixture : IAsyncLifetime
{
    public const string Model = "tiny";
    public const string Device = "cpu0";

    /// <summary>A bigger random model (smollm2-135m shapes) on a second engine per silo, slow enough on one thread
    /// that a long generation is still running when a test kills its silo or goes away.</summary>
    public const string SlowModel = "slow";
    public const string SlowDevice = "cpu1";
    public static readonly string[] SiloNames = ["silo-0", "silo-1"];

    private readonly Dictionary<string, ManagedProcess> _silos = [];
    private ManagedProcess? _redis;
    private ManagedProcess? _gateway;
    private ContainerCluster? _containers;
    private string _clusterId = "";
    private int _redisPort;

    public string TempDir { get; } = Directory.CreateTempSubdirectory("orleansllm-platform-").FullName;
    public string ModelsDir => Path.Combine(TempDir, "models");
    public string ModelDir => Path.Combine(ModelsDir, Model);
    public string SlowModelDir => Path.Combine(ModelsDir, SlowModel);
    public Uri Gateway { get; private set; } = null!;
    public HttpClient Http { get; private set; } = null!;

    /// <summary>max_position_embeddings of the model, read from its config.json.</summary>
    public int MaxPositions { get; private set; }

    public static string RepoRoot { get; } = FindRepoRoot();

    public static string Configuration { get; } =
        typeof(PlatformFixture).Assembly.GetCustomAttribute<BuildConfigurationAttribute>()?.Configuration ?? "Release";

    public static string EngineOf(string silo) => $"{silo}/{Device}";

    public static string SlowEngineOf(string silo) => $"{silo}/{SlowDevice}";

    private static IEnumerable<string> AllEngines() => SiloNames.SelectMany(s => new[] { EngineOf(s), SlowEngineOf(s) });

    public async Task InitializeAsync()
    {
        var started = Stopwatch.StartNew();
        try
        {
            await MakeModelAsync();
            if (ContainerCluster.Requested)
            {
                await StartContainersAsync();
                return;
            }
            await StartRedisAsync();
            _clusterId = "platform-tests-" + Guid.NewGuid().ToString("N")[..8];
            foreach (var name in SiloNames)
            {
                StartSilo(name);
            }
            var gatewayPort = FreePorts.Next();
            _gateway = ManagedProcess.Start("gateway", Dotnet(), [FindDll("Gateway", "OrleansLlm.Gateway.dll"),
                $"--urls=http://127.0.0.1:{gatewayPort}",
                $"--ConnectionStrings:redis=127.0.0.1:{_redisPort}",
                $"--Cluster:ClusterId={_clusterId}",
                .. CommonArgs()], Path.Combine(TempDir, "gateway.log"));
            Gateway = new Uri($"http://127.0.0.1:{gatewayPort}");
            Http = new HttpClient { BaseAddress = Gateway, Timeout = TimeSpan.FromSeconds(120) };
            await WaitForEnginesAsync(AllEngines(), TimeSpan.FromSeconds(120));
            // load both engines now, so no test pays the cold start
            foreach (var silo in SiloNames)
            {
                await WarmAsync(silo);
            }
        }
        catch (Exception e)
        {
            throw new InvalidOperationException($"the platform did not start ({started.Elapsed.TotalSeconds:F0} s): {e.Message}\n{Logs()}", e);
        }
    }

    /// <summary>The same cluster as containers: silos see the models under /models (read-only).</summary>
    private async Task StartContainersAsync()
    {
        // the containers run as another user: the temp folder must be readable by it
        if (!OperatingSystem.IsWindows())
        {
            foreach (var dir in new[] { TempDir, ModelsDir, ModelDir, SlowModelDir })
            {
                File.SetUnixFileMode(dir, (UnixFileMode)0b111_101_101);
            }
        }
        _containers = new ContainerCluster(RepoRoot, TempDir);
        var gatewayPort = FreePorts.Next();
        await _containers.UpAsync(SiloNames.Length, gatewayPort, ModelsDir,
            EngineArgs($"/models/{Model}", $"/models/{SlowModel}"), CommonArgs(), CommonArgs());
        Gateway = new Uri($"http://127.0.0.1:{gatewayPort}");
        Http = new HttpClient { BaseAddress = Gateway, Timeout = TimeSpan.FromSeconds(120) };
        await WaitForEnginesAsync(AllEngines(), TimeSpan.FromSeconds(120));
        foreach (var silo in SiloNames)
        {
            await WarmAsync(silo);
        }
    }

    public async Task DisposeAsync()
    {
        Http?.Dispose();
        if (_containers is not null)
        {
            File.WriteAllText(Path.Combine(TempDir, "containers.log"), ContainerLogs(400));
            await _containers.DownAsync();
        }
        _gateway?.Dispose();
        foreach (var silo in _silos.Values)
        {
            silo.Dispose();
        }
        _redis?.Dispose();
        await Task.Delay(200);
        try
        {
            // the processes' logs stay next to the test assembly, for a failure's post-mortem
            // process and container runs keep separate folders: the container run must not erase the other's
            var logs = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, _containers is null ? "platform-logs" : "platform-logs-containers"));
            foreach (var old in logs.EnumerateFiles())
            {
                old.Delete();
            }
            foreach (var log in Directory.EnumerateFiles(TempDir, "*.log"))
            {
                File.Copy(log, Path.Combine(logs.FullName, Path.GetFileName(log)), overwrite: true);
            }
            Directory.Delete(TempDir, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>The OS process id of a silo started by the fixture.</summary>
    public int SiloPid(string silo) => _silos[silo].Pid;

    /// <summary>Kills a silo process (its whole tree) or container as a crash would: no graceful shutdown.</summary>
    public void KillSilo(string silo)
    {
        if (_containers is not null)
        {
            _containers.KillAsync(silo).GetAwaiter().GetResult();
            return;
        }
        _silos[silo].Dispose();
    }

    /// <summary>Starts a silo (a replacement for a killed one keeps its name, so its engine id) on fresh ports.</summary>
    public void StartSilo(string name)
    {
        if (_silos.TryGetValue(name, out var old))
        {
            old.Dispose();
        }
        _silos[name] = ManagedProcess.Start(name, Dotnet(), [FindDll("Silo", "OrleansLlm.Silo.dll"),
            $"--urls=http://127.0.0.1:{FreePorts.Next()}",
            $"--ConnectionStrings:redis=127.0.0.1:{_redisPort}",
            "--Cluster:Mode=Redis",
            $"--Cluster:ClusterId={_clusterId}",
            $"--Cluster:SiloName={name}",
            $"--Cluster:SiloPort={FreePorts.Next()}",
            $"--Cluster:GatewayPort={FreePorts.Next()}",
            .. EngineArgs(ModelDir, SlowModelDir),
            .. CommonArgs()], Path.Combine(TempDir, $"{name}-{DateTime.UtcNow:HHmmssfff}.log"));
    }

    /// <summary>Both models and both engines of a silo, the models at the given paths.</summary>
    private static string[] EngineArgs(string modelPath, string slowModelPath) =>
    [
        $"--OrleansLlm:Models:{Model}:Path={modelPath}",
        $"--OrleansLlm:Engines:0:Device={Device}",
        $"--OrleansLlm:Engines:0:Model={Model}",
        "--OrleansLlm:Engines:0:Threads=1",
        "--OrleansLlm:Engines:0:KvCacheMiB=64",
        "--OrleansLlm:Engines:0:IdleTimeoutSeconds=0",
        $"--OrleansLlm:Models:{SlowModel}:Path={slowModelPath}",
        $"--OrleansLlm:Engines:1:Device={SlowDevice}",
        $"--OrleansLlm:Engines:1:Model={SlowModel}",
        "--OrleansLlm:Engines:1:Threads=1",
        "--OrleansLlm:Engines:1:KvCacheMiB=64",
        "--OrleansLlm:Engines:1:IdleTimeoutSeconds=0",
    ];

    /// <summary>Starts a silo again if it is not running (any other silo that exited too), and waits until every engine serves.</summary>
    public async Task EnsureSiloRunningAsync(string name)
    {
        if (_containers is not null)
        {
            if (!_containers.IsRunning(name))
            {
                await _containers.StartAsync(name);
            }
        }
        else
        {
            RestartExitedSilos();
        }
        try
        {
            await WaitForEnginesAsync(AllEngines(), TimeSpan.FromSeconds(90));
        }
        catch (TimeoutException) when (_containers is null && _silos.Values.Any(s => s.HasExited))
        {
            // a silo that exited while the cluster recovered (its logs are kept under platform-logs)
            RestartExitedSilos();
            await WaitForEnginesAsync(AllEngines(), TimeSpan.FromSeconds(90));
        }
        await WarmAsync(name);
    }

    private void RestartExitedSilos()
    {
        foreach (var silo in SiloNames.Where(s => _silos[s].HasExited))
        {
            StartSilo(silo);
        }
    }

    /// <summary>Waits until /ready answers 200 and lists every engine in <paramref name="engines"/>.</summary>
    public async Task WaitForEnginesAsync(IEnumerable<string> engines, TimeSpan timeout)
    {
        var wanted = engines.ToHashSet();
        var deadline = Stopwatch.StartNew();
        var last = "";
        using var http = new HttpClient { BaseAddress = Gateway, Timeout = TimeSpan.FromSeconds(10) };
        while (deadline.Elapsed < timeout)
        {
            if (_containers is null ? _gateway!.HasExited : !_containers.IsRunning("gateway"))
            {
                throw new InvalidOperationException("the gateway process exited");
            }
            try
            {
                using var response = await http.GetAsync("/ready");
                last = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    var ready = JsonNode.Parse(last[4..])!["engines"]!.AsArray().Select(e => (string)e!).ToHashSet();
                    if (wanted.IsSubsetOf(ready))
                    {
                        return;
                    }
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                last = e.Message;
            }
            await Task.Delay(250);
        }
        throw new TimeoutException($"the engines {string.Join(", ", wanted)} were not ready within {timeout.TotalSeconds} s; last /ready: {last}");
    }

    /// <summary>The engines in /admin/cluster by id.</summary>
    /// <param name="live">Each engine's status asked of the engine now (<c>?live=true</c>), not the routers' board.</param>
    public async Task<Dictionary<string, JsonNode>> EnginesAsync(bool live = false)
    {
        var cluster = JsonNode.Parse(await Http.GetStringAsync(live ? "/admin/cluster?live=true" : "/admin/cluster"))!;
        return cluster["engines"]!.AsArray().ToDictionary(e => (string)e!["id"]!, e => e!);
    }

    /// <summary>The tail of every process's log, for a failure message.</summary>
    public string Logs(int lines = 40)
    {
        var text = new StringBuilder(ContainerLogs(lines));
        foreach (var file in Directory.EnumerateFiles(TempDir, "*.log").Order())
        {
            text.AppendLine($"--- {Path.GetFileName(file)} ---");
            try
            {
                using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using var reader = new StreamReader(stream);
                foreach (var line in reader.ReadToEnd().Split('\n').TakeLast(lines))
                {
                    text.AppendLine(line);
                }
            }
            catch (IOException e)
            {
                text.AppendLine(e.Message);
            }
        }
        return text.ToString();
    }

    private string ContainerLogs(int lines)
    {
        if (_containers is null)
        {
            return "";
        }
        var text = new StringBuilder();
        foreach (var member in SiloNames.Append("gateway"))
        {
            text.AppendLine($"--- container {member} ---").AppendLine(_containers.Logs(member, lines));
        }
        return text.ToString();
    }

    /// <summary>Loads a silo's engine: a one-token request pinned to it is not possible, so ask until its status is ready.</summary>
    private async Task WarmAsync(string silo)
    {
        var engine = EngineOf(silo);
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            var engines = await EnginesAsync();
            if (engines.TryGetValue(engine, out var e) && (string)e["state"]! == "ready")
            {
                return;
            }
            // random routing spreads these over both engines; each loads on its first request
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
            {
                Content = new StringContent($$"""{"model":"{{Model}}","prompt":"warm","max_tokens":1}""", Encoding.UTF8, "application/json"),
            };
            request.Headers.Add("X-Routing", "random");
            using var response = await Http.SendAsync(request);
            await Task.Delay(100);
        }
        throw new TimeoutException($"engine {engine} did not load within 60 s");
    }

    private async Task MakeModelAsync()
    {
        var cli = FindDll("Cli", "orleansllm.dll");
        foreach (var (preset, dir) in new[] { ("tiny", ModelDir), ("smollm2-135m", SlowModelDir) })
        {
            using var make = ManagedProcess.Start("make-model", Dotnet(),
                [cli, "make-model", "--arch", "llama", "--preset", preset, "--dtype", "bf16", "--seed", "1", "--out", dir],
                Path.Combine(TempDir, $"make-model-{preset}.log"));
            if (!await make.WaitForExitAsync(TimeSpan.FromSeconds(120)) || make.ExitCode != 0)
            {
                throw new InvalidOperationException($"make-model {preset} failed (exit {(make.HasExited ? make.ExitCode : "none: timed out")})");
            }
        }
        var config = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(ModelDir, "config.json")))!;
        MaxPositions = (int)config["max_position_embeddings"]!;
    }

    private async Task StartRedisAsync()
    {
        _redisPort = FreePorts.Next();
        var redis = File.Exists("/usr/bin/redis-server") ? "/usr/bin/redis-server" : "redis-server";
        var dir = Directory.CreateDirectory(Path.Combine(TempDir, "redis")).FullName;
        _redis = ManagedProcess.Start("redis", redis,
            ["--port", _redisPort.ToString(), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no", "--protected-mode", "no"],
            Path.Combine(TempDir, "redis.log"));
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(20))
        {
            try
            {
                using var tcp = new TcpClient();
                await tcp.ConnectAsync(IPAddress.Loopback, _redisPort);
                var stream = tcp.GetStream();
                await stream.WriteAsync("PING\r\n"u8.ToArray());
                var buffer = new byte[16];
                var n = await stream.ReadAsync(buffer);
                if (Encoding.ASCII.GetString(buffer, 0, n).StartsWith("+PONG", StringComparison.Ordinal))
                {
                    return;
                }
            }
            catch (SocketException)
            {
            }
            await Task.Delay(100);
        }
        throw new TimeoutException("redis-server did not answer PING within 20 s");
    }

    /// <summary>Grain calls without an answer fail after this long (a streamed call through a killed silo among them).</summary>
    public const int ResponseTimeoutSeconds = 10;

    private static string[] CommonArgs() =>
    [
        $"--Cluster:ResponseTimeoutSeconds={ResponseTimeoutSeconds}",
        "--Logging:LogLevel:Default=Warning",
        "--Logging:LogLevel:OrleansLlm=Information",
        "--Logging:LogLevel:Microsoft.Hosting.Lifetime=Information",
    ];

    public static string Dotnet() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    /// <summary>A platform dll in its project's output folder, of this assembly's configuration (newest build if several).</summary>
    public static string FindDll(string project, string dll)
    {
        var bin = Path.Combine(RepoRoot, project, "bin");
        var candidates = Directory.Exists(bin)
            ? Directory.EnumerateFiles(bin, dll, SearchOption.AllDirectories)
                .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}ref{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
                .Select(f => new FileInfo(f)).ToList()
            : [];
        var ofConfiguration = candidates.Where(f => f.FullName.Contains($"{Path.DirectorySeparatorChar}{Configuration}{Path.DirectorySeparatorChar}", StringComparison.Ordinal)).ToList();
        return (ofConfiguration.Count > 0 ? ofConfiguration : candidates).OrderByDescending(f => f.LastWriteTimeUtc).FirstOrDefault()?.FullName
            ?? throw new FileNotFoundException($"{dll} is not built under {bin} (build {project} in {Configuration})");
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "OrleansLlm.sln")))
            {
                return dir.FullName;
            }
        }
        throw new DirectoryNotFoundException($"no OrleansLlm.sln above {AppContext.BaseDirectory}");
    }
}

/// <summary>A child process whose output goes to a log file; disposing kills its whole tree.</summary>
public sealed class ManagedProcess : IDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;

    private ManagedProcess(Process process, StreamWriter log)
    {
        _process = process;
        _log = log;
    }

    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    public static ManagedProcess Start(string name, string fileName, IEnumerable<string> args, string logPath)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(logPath)!,
        };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        // no telemetry exporters from the test environment
        info.Environment.Remove("OTEL_EXPORTER_OTLP_ENDPOINT");
        var log = new StreamWriter(new FileStream(logPath, FileMode.Create, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete)) { AutoFlush = true };
        log.WriteLine($"$ {fileName} {string.Join(' ', args)}");
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => Write(log, e.Data);
        process.ErrorDataReceived += (_, e) => Write(log, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new ManagedProcess(process, log);
    }

    private static void Write(StreamWriter log, string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (log)
        {
            try
            {
                log.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
        }
        lock (_log)
        {
            _log.Dispose();
        }
    }
}
