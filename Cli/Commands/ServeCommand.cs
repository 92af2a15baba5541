using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans;
using OrleansLlm.Cli.ModelMaking;
using OrleansLlm.Gateway;
using OrleansLlm.Tokenizers;
using OrleansLlm.Grains;
using OrleansLlm.ServiceDefaults;
using OrleansLlm.Silo;

namespace OrleansLlm.Cli.Commands;

/// <summary>
/// `orleansllm serve`: the whole platform in one process — a silo with localhost clustering and
/// memory storage, one CPU engine, and the OpenAI gateway — the same host code as the cluster,
/// configured differently. Without --model it serves a demo model made on first run.
/// </summary>
internal static class ServeCommand
{
    public const string DemoModelName = "demo";

    public static Command Create()
    {
        var model = new Option<string?>("--model") { Description = "A Hugging Face model folder or a .gguf file (default: a demo model made on first run)" };
        var name = new Option<string?>("--served-model-name") { Description = "The model's name in the API (default: the folder name, or 'demo')" };
        var port = new Option<int>("--port") { Description = "HTTP port of the OpenAI API", DefaultValueFactory = _ => 8000 };
        var host = new Option<string>("--host") { Description = "Address to listen on", DefaultValueFactory = _ => "127.0.0.1" };
        var threads = new Option<int>("--threads") { Description = "Kernel threads (0: every core)" };
        var kvCache = new Option<long>("--kv-cache-mib") { Description = "KV cache memory in MiB", DefaultValueFactory = _ => 512 };
        var apiKey = new Option<string?>("--api-key") { Description = "Require this API key (Authorization: Bearer KEY)" };
        var weights = WeightsOption.Create();
        var kvCacheDtype = KvCacheDtypeOption.Create();
        var command = new Command("serve", "Serve a model over the OpenAI API: silo, engine and gateway in one process")
        {
            model, name, port, host, threads, kvCache, apiKey, weights, kvCacheDtype,
        };
        command.SetAction(async (r, ct) =>
        {
            var folder = r.GetValue(model) is { } m ? Path.GetFullPath(m) : await EnsureDemoModelAsync(ct);
            if (folder is null)
            {
                return 1;
            }
            bool gguf = HfTokenizer.IsGgufFile(folder);
            if (!gguf && !File.Exists(Path.Combine(folder, "config.json")))
            {
                Console.Error.WriteLine($"serve: {folder} is neither a Hugging Face model folder (no config.json) nor a GGUF file");
                return 1;
            }
            var modelName = r.GetValue(name) ?? (r.GetValue(model) is null ? DemoModelName
                : gguf ? Path.GetFileNameWithoutExtension(folder) : Path.GetFileName(folder.TrimEnd('/')));
            var url = $"http://{r.GetValue(host)}:{r.GetValue(port)}";
            var settings = new Dictionary<string, string?>
            {
                ["Cluster:Mode"] = nameof(ClusterMode.Localhost),
                ["Cluster:SiloName"] = "local",
                ["Cluster:SiloPort"] = FreePorts.Next().ToString(),
                ["Cluster:GatewayPort"] = FreePorts.Next().ToString(),
                [$"OrleansLlm:Models:{modelName}:Path"] = folder,
                ["OrleansLlm:Engines:0:Device"] = "cpu0",
                ["OrleansLlm:Engines:0:Model"] = modelName,
                ["OrleansLlm:Engines:0:Threads"] = r.GetValue(threads).ToString(),
                ["OrleansLlm:Engines:0:KvCacheMiB"] = r.GetValue(kvCache).ToString(),
                ["OrleansLlm:Engines:0:Weights"] = r.GetValue(weights) ?? "",
                ["OrleansLlm:Engines:0:KvCacheDtype"] = r.GetValue(kvCacheDtype) ?? "",
                ["OrleansLlm:Engines:0:IdleTimeoutSeconds"] = "0",
                ["Logging:LogLevel:Default"] = "Warning",
                ["Logging:LogLevel:OrleansLlm"] = "Information",
                ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Information",
            };
            if (r.GetValue(apiKey) is { } key)
            {
                settings[$"Gateway:ApiKeys:{key}"] = "default";
            }
            var builder = WebApplication.CreateBuilder([]);
            builder.Configuration.AddInMemoryCollection(settings);
            builder.WebHost.UseUrls(url);
            builder.AddServiceDefaults();
            builder.AddOrleansLlmSilo();
            builder.AddOrleansLlmGateway();
            var app = builder.Build();
            app.MapDefaultEndpoints();
            app.MapOrleansLlmSiloEndpoints();
            app.MapOrleansLlmGateway();
            await app.StartAsync(ct);
            Console.Error.WriteLine($"serve: loading model '{modelName}' from {folder} ...");
            var engine = app.Services.GetRequiredService<IClusterClient>().GetGrain<IEngineGrain>(EngineId.Create("local", "cpu0"));
            var status = await engine.Warm();
            var auth = r.GetValue(apiKey) is { } k ? $" -H 'Authorization: Bearer {k}'" : "";
            var body = $$"""{"model":"{{modelName}}","messages":[{"role":"user","content":"Hello!"}],"max_tokens":32}""";
            Console.WriteLine();
            Console.WriteLine($"OrleansLlm is serving '{modelName}' ({status.State}) at {url}/v1  (dashboard: {url}/dashboard, metrics: {url}/metrics)");
            Console.WriteLine("Try:");
            Console.WriteLine($"  curl {url}/v1/chat/completions -H 'Content-Type: application/json'{auth} -d '{body}'");
            Console.WriteLine("Press Ctrl+C to stop.");
            await app.WaitForShutdownAsync(ct);
            return 0;
        });
        return command;
    }

    /// <summary>The demo model's folder, made (random weights, ~tiny preset) on first use with a progress bar.</summary>
    private static async Task<string?> EnsureDemoModelAsync(CancellationToken ct)
    {
        var cache = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        var folder = Path.Combine(cache, "orleansllm", "demo-model");
        if (File.Exists(Path.Combine(folder, "config.json")))
        {
            return folder;
        }
        Console.Error.WriteLine($"serve: making the demo model (random weights, real Hugging Face format) in {folder}");
        ModelPresets.TryGet("tiny", out var preset);
        var request = new ModelMakeRequest(new ModelSpec(preset, preset.NaturalArchitecture, TensorDType.BF16), 1, folder, null, Force: true);
        var interactive = !Console.IsOutputRedirected;
        return await MakeModelCommand.RunAsync(request, Console.Error, Console.Error, interactive, ct) == 0 ? folder : null;
    }
}
