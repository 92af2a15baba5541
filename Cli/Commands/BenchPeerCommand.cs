using System.CommandLine;
using System.Diagnostics;

namespace OrleansLlm.Cli.Commands;

/// <summary>`orleansllm bench peer --model FILE.gguf --json`: llama.cpp and our engine on the same
/// file. The product never loads llama.cpp: this spawns the PeerBench executable
/// (Benchmarks/PeerBench, which references LLamaSharp) and passes its JSON through.</summary>
internal static class BenchPeerCommand
{
    internal const string ExecutableName = "orleansllm-peer-bench";
    internal const string PathVariable = "ORLEANSLLM_PEER_BENCH";

    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "GGUF file (orleansllm convert --to gguf)", Required = true };
        var threads = new Option<int>("--threads") { Description = "CPU threads for both engines (0 = all cores)", DefaultValueFactory = _ => 0 };
        var reference = new Option<string?>("--reference")
        {
            Description = "GGUF of the same weights in more precision (convert --type f32, or the BF16 file a quantized one came from): " +
                "both engines' logits are compared with llama.cpp's on it (F32 KV cache, no flash attention)",
        };
        var skipSpeed = new Option<bool>("--skip-speed") { Description = "Only the logits comparisons" };
        var kvCache = KvCacheDtypeOption.Create();
        var json = new Option<bool>("--json") { Description = "Print the figures as one JSON object (the default output)" };
        var command = new Command("peer", "Benchmark our engine against llama.cpp (LLamaSharp) on the same GGUF file");
        foreach (var option in new Option[] { model, threads, reference, kvCache, skipSpeed, json })
        {
            command.Options.Add(option);
        }
        command.SetAction(async (ParseResult r, CancellationToken ct) =>
        {
            var path = r.GetValue(model)!;
            var referencePath = r.GetValue(reference);
            var error = r.InvocationConfiguration.Error;
            foreach (var file in new[] { path, referencePath })
            {
                if (file is not null && !File.Exists(file))
                {
                    await error.WriteLineAsync($"error: model file {file} does not exist").ConfigureAwait(false);
                    return 1;
                }
            }
            if (r.GetValue(threads) < 0)
            {
                await error.WriteLineAsync("error: --threads must be 0 or more").ConfigureAwait(false);
                return 1;
            }
            var executable = FindExecutable(AppContext.BaseDirectory, Environment.GetEnvironmentVariable(PathVariable));
            if (executable is null)
            {
                await error.WriteLineAsync(
                    $"error: the peer benchmark ({ExecutableName}) is missing: build it with `dotnet build OrleansLlm.sln -c Release` " +
                    $"(project Benchmarks/PeerBench) or set {PathVariable} to its path").ConfigureAwait(false);
                return 1;
            }
            var arguments = new List<string> { "--model", path, "--threads", r.GetValue(threads).ToString(System.Globalization.CultureInfo.InvariantCulture), "--json" };
            if (referencePath is not null)
            {
                arguments.AddRange(["--reference", referencePath]);
            }
            if (r.GetValue(kvCache) is { } kv)
            {
                arguments.AddRange(["--kv-cache-dtype", kv]);
            }
            if (r.GetValue(skipSpeed))
            {
                arguments.Add("--skip-speed");
            }
            return await RunAsync(executable, arguments, r.InvocationConfiguration.Output, ct).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>The PeerBench executable or .dll: <paramref name="overridePath"/> when set, else
    /// next to this program, else in the repository's build output above <paramref name="baseDirectory"/>.</summary>
    internal static string? FindExecutable(string baseDirectory, string? overridePath)
    {
        if (!string.IsNullOrEmpty(overridePath))
        {
            return File.Exists(overridePath) ? Path.GetFullPath(overridePath) : null;
        }
        var candidates = new List<string> { baseDirectory };
        for (var dir = new DirectoryInfo(baseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "OrleansLlm.sln")))
            {
                foreach (var configuration in new[] { "Release", "Debug" })
                {
                    candidates.Add(Path.Combine(dir.FullName, "Benchmarks", "PeerBench", "bin", configuration, "net10.0"));
                }
                break;
            }
        }
        return candidates.Select(c => Path.Combine(c, ExecutableName + ".dll")).FirstOrDefault(File.Exists);
    }

    private static async Task<int> RunAsync(string executable, IEnumerable<string> arguments, TextWriter output, CancellationToken ct)
    {
        var isAssembly = executable.EndsWith(".dll", StringComparison.OrdinalIgnoreCase);
        var start = new ProcessStartInfo(isAssembly ? "dotnet" : executable) { RedirectStandardOutput = true, UseShellExecute = false };
        if (isAssembly)
        {
            start.ArgumentList.Add(executable);
        }
        foreach (var arg in arguments)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {executable}");
        try
        {
            // stderr (progress, errors) goes straight to ours; stdout is the JSON.
            var json = await process.StandardOutput.ReadToEndAsync(ct).ConfigureAwait(false);
            await process.WaitForExitAsync(ct).ConfigureAwait(false);
            await output.WriteAsync(json).ConfigureAwait(false);
            return process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
    }
}
