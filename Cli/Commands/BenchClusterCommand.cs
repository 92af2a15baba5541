using System.CommandLine;
using System.Text.Json;
using OrleansLlm.Cli.ClusterBench;

namespace OrleansLlm.Cli.Commands;

/// <summary>`orleansllm bench cluster [--redis HOST:PORT] --json`: grain calls and streams within and across two silos.</summary>
internal static class BenchClusterCommand
{
    public static Command Create()
    {
        var redis = new Option<string?>("--redis") { Description = "Cluster through this Redis (host:port) instead of localhost clustering" };
        var calls = new Option<int>("--calls") { Description = "Grain calls per measurement", DefaultValueFactory = _ => 20000 };
        var concurrency = new Option<int>("--concurrency") { Description = "Concurrent callers in the throughput measurements", DefaultValueFactory = _ => 32 };
        var items = new Option<int>("--stream-items") { Description = "Items of the streamed call", DefaultValueFactory = _ => 10000 };
        var json = new Option<bool>("--json") { Description = "Print the figures as one JSON object (the default output)" };

        var command = new Command("cluster", "Benchmark grain calls and streams within and across two in-process silos");
        foreach (var option in new Option[] { redis, calls, concurrency, items, json })
        {
            command.Options.Add(option);
        }
        command.SetAction(async (ParseResult r, CancellationToken ct) =>
        {
            var result = await ClusterBenchRunner.RunAsync(r.GetValue(redis), r.GetValue(calls), r.GetValue(concurrency), r.GetValue(items), Progress);
            Console.WriteLine(JsonSerializer.Serialize(result, ClusterBenchJson.Default.ClusterBenchResult));
            return 0;
        });
        return command;
    }

    private static void Progress(string message) => Console.Error.WriteLine($"[bench] {message}");
}
