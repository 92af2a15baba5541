using System.CommandLine;
using System.Text.Json;
using OrleansLlm.Cli.EngineBench;
using OrleansLlm.Native;

namespace OrleansLlm.Cli.Commands;

/// <summary>`orleansllm bench engine --model DIR --scenario NAME --json`.</summary>
internal static class BenchEngineCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Model directory", Required = true };
        var scenario = new Option<string>("--scenario") { Description = "decode | throughput | multi-turn | long-context", DefaultValueFactory = _ => "decode" };
        var threads = new Option<int>("--threads") { Description = "CPU threads (0 = all cores)", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "Print the figures as one JSON object (the default output)" };
        var weights = WeightsOption.Create();
        var kvCacheDtype = KvCacheDtypeOption.Create();

        var command = new Command("engine", "Benchmark the native engine on a model");
        foreach (var option in new Option[] { model, scenario, threads, json, weights, kvCacheDtype })
        {
            command.Options.Add(option);
        }
        command.SetAction(async (ParseResult r, CancellationToken ct) =>
        {
            var dir = r.GetValue(model)!;
            var threadCount = r.GetValue(threads);
            var quantization = WeightsOption.Value(r, weights);
            var kvCache = KvCacheDtypeOption.Value(r, kvCacheDtype);
            try
            {
                var output = r.GetValue(scenario) switch
                {
                    "decode" => JsonSerializer.Serialize(DecodeScenario.Run(dir, threadCount, Progress, quantization, kvCache), CliJson.Default.DecodeBenchResult),
                    "throughput" => JsonSerializer.Serialize(ThroughputScenario.Run(dir, threadCount, Progress, quantization, kvCache), ThroughputBenchJson.Default.ThroughputBenchResult),
                    "multi-turn" => JsonSerializer.Serialize(MultiTurnScenario.Run(dir, threadCount, Progress, quantization, kvCache), MultiTurnBenchJson.Default.MultiTurnBenchResult),
                    // BF16 and INT8 caches side by side: --kv-cache-dtype does not apply.
                    "long-context" => JsonSerializer.Serialize(LongContextScenario.Run(dir, threadCount, Progress, quantization), LongContextBenchJson.Default.LongContextBenchResult),
                    var other => throw new ArgumentException($"unknown scenario '{other}' (known: decode, throughput, multi-turn, long-context)"),
                };
                Console.WriteLine(output);
                await Task.CompletedTask;
                return 0;
            }
            catch (Exception ex) when (ex is NativeException or ArgumentException)
            {
                Console.Error.WriteLine($"error: {ex.Message}");
                return 1;
            }
        });
        return command;
    }

    private static void Progress(string message) => Console.Error.WriteLine($"[bench] {message}");
}
