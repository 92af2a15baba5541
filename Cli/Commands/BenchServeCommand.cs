using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using OrleansLlm.Cli.ServeBench;

namespace OrleansLlm.Cli.Commands;

/// <summary>
/// `orleansllm bench serve --url URL --dataset multi-turn|random --sessions N --turns T --request-rate R
/// --routing kv-aware|random|both --json`: a load generator against a running gateway, like `vllm bench serve`.
/// </summary>
internal static class BenchServeCommand
{
    public static Command Create()
    {
        var url = new Option<string>("--url") { Description = "The gateway's base URL", DefaultValueFactory = _ => "http://127.0.0.1:8000" };
        var model = new Option<string?>("--model") { Description = "Model name (default: the first of GET /v1/models)" };
        var dataset = new Option<string>("--dataset") { Description = "multi-turn (sessions resending their conversation) | random (independent prompts)", DefaultValueFactory = _ => "multi-turn" };
        dataset.AcceptOnlyFromAmong("multi-turn", "random");
        var sessions = new Option<int>("--sessions") { Description = "Concurrent sessions (random: prompts = sessions × turns)", DefaultValueFactory = _ => 16 };
        var turns = new Option<int>("--turns") { Description = "Turns per session", DefaultValueFactory = _ => 5 };
        var rate = new Option<string>("--request-rate") { Description = "Arrivals per second, Poisson (multi-turn: session starts); inf = all at once", DefaultValueFactory = _ => "inf" };
        var think = new Option<double>("--think-time") { Description = "Seconds a session waits after a reply before its next turn", DefaultValueFactory = _ => 0 };
        var routing = new Option<string>("--routing") { Description = "kv-aware | random | both (the same workload under each, one after the other) | default (no X-Routing header)", DefaultValueFactory = _ => "both" };
        routing.AcceptOnlyFromAmong("kv-aware", "random", "both", "default");
        var systemTokens = new Option<int>("--system-tokens") { Description = "Tokens of each session's own system prompt (random: of each prompt, with --user-tokens)", DefaultValueFactory = _ => 1000 };
        var userTokens = new Option<int>("--user-tokens") { Description = "Tokens of each user message", DefaultValueFactory = _ => 64 };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Output tokens per request (sent with ignore_eos)", DefaultValueFactory = _ => 16 };
        var seed = new Option<int>("--seed") { Description = "Seed of the random words and arrivals", DefaultValueFactory = _ => 1 };
        var concurrency = new Option<int>("--max-concurrency") { Description = "Most requests in flight (0: no limit)", DefaultValueFactory = _ => 0 };
        var warmup = new Option<int>("--warmup") { Description = "Short random-routed requests before measuring (then until every engine is ready)", DefaultValueFactory = _ => 4 };
        var noEngines = new Option<bool>("--no-track-engines") { Description = "Do not ask GET /v1/sessions/ID for each turn's engine" };
        var apiKey = new Option<string?>("--api-key") { Description = "Bearer API key (default: $OPENAI_API_KEY)" };
        var json = new Option<bool>("--json") { Description = "Print the figures as one JSON object (the default output)" };

        var command = new Command("serve", "Benchmark a running gateway with streamed chat completions (TTFT, TPOT, ITL, E2E, prefix hit rate)");
        foreach (var option in new Option[] { url, model, dataset, sessions, turns, rate, think, routing, systemTokens, userTokens, maxTokens, seed, concurrency, warmup, noEngines, apiKey, json })
        {
            command.Options.Add(option);
        }
        command.SetAction(async (ParseResult r, CancellationToken ct) =>
        {
            var rateText = r.GetValue(rate)!;
            if (!(rateText is "inf" or "infinity"
                    ? true
                    : double.TryParse(rateText, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) && parsed > 0))
            {
                Console.Error.WriteLine($"error: --request-rate must be a positive number or inf, not '{rateText}'");
                return 1;
            }
            var options = new ServeBenchOptions(
                r.GetValue(url)!, r.GetValue(model), r.GetValue(dataset)!, r.GetValue(sessions), r.GetValue(turns),
                rateText is "inf" or "infinity" ? double.PositiveInfinity : double.Parse(rateText, CultureInfo.InvariantCulture),
                r.GetValue(think), r.GetValue(routing)!, r.GetValue(systemTokens), r.GetValue(userTokens), r.GetValue(maxTokens),
                r.GetValue(seed), r.GetValue(concurrency), r.GetValue(warmup), !r.GetValue(noEngines),
                r.GetValue(apiKey) ?? Environment.GetEnvironmentVariable("OPENAI_API_KEY"));
            if (options.Sessions < 1 || options.Turns < 1 || options.MaxTokens < 1)
            {
                Console.Error.WriteLine("error: --sessions, --turns and --max-tokens must be at least 1");
                return 1;
            }
            try
            {
                var result = await ServeBenchRunner.RunAsync(options, Progress, ct);
                Console.WriteLine(JsonSerializer.Serialize(result, ServeBenchJson.Default.ServeBenchResult));
                return result.Runs.All(run => run.Failed == 0) ? 0 : 2;
            }
            catch (Exception ex) when (ex is HttpRequestException or ArgumentException or InvalidOperationException)
            {
                Console.Error.WriteLine($"error: {ex.Message}");
                return 1;
            }
        });
        return command;
    }

    private static void Progress(string message) => Console.Error.WriteLine($"[bench] {message}");
}
