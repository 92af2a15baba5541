using System.CommandLine;
using OrleansLlm.Runtime.Benchmarks;

namespace OrleansLlm.AppHost.Commands;

/// <summary>`orleansllm bench runtime`: grain call and streaming throughput/latency, as one JSON object.</summary>
internal static class BenchRuntimeCommand
{
    public static IEnumerable<Command> Create()
    {
        var seconds = new Option<double>("--seconds") { Description = "Duration of each scenario in seconds", DefaultValueFactory = _ => 3 };
        var concurrency = new Option<int>("--concurrency") { Description = "Concurrent callers in the loaded scenarios", DefaultValueFactory = _ => 32 };
        var redis = new Option<string?>("--redis") { Description = "Use Redis at HOST:PORT as the cluster store (default: in-memory)" };
        var command = new Command("runtime", "Benchmark grain calls (local and remote) and cross-silo streaming");
        foreach (var option in new Option[] { seconds, concurrency, redis })
        {
            command.Options.Add(option);
        }
        command.SetAction(async (ParseResult r, CancellationToken ct) =>
        {
            var duration = r.GetValue(seconds);
            var callers = r.GetValue(concurrency);
            if (duration <= 0 || callers < 1)
            {
                Console.Error.WriteLine("error: --seconds must be > 0 and --concurrency >= 1");
                return 1;
            }
            var result = await RuntimeBenchmark.RunAsync(TimeSpan.FromSeconds(duration), callers, r.GetValue(redis), ct);
            Console.WriteLine(RuntimeBenchmark.ToJson(result));
            return 0;
        });
        yield return command;
    }
}
