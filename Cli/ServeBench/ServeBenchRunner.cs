using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;

namespace OrleansLlm.Cli.ServeBench;

/// <summary>The settings of `orleansllm bench serve`.</summary>
internal sealed record ServeBenchOptions(
    string Url,
    string? Model,
    string Dataset,
    int Sessions,
    int Turns,
    double RequestRate,
    double ThinkTimeS,
    string Routing,
    int SystemTokens,
    int UserTokens,
    int MaxTokens,
    int Seed,
    int MaxConcurrency,
    int Warmup,
    bool TrackEngines,
    string? ApiKey);

/// <summary>One turn's measurement within its session.</summary>
internal sealed record TurnSample(int Session, int Turn, RequestResult Result, string? Engine);

/// <summary>
/// A load generator against a running gateway, like `vllm bench serve`. multi-turn: each session
/// resends its whole conversation every turn with X-Session-Id, its next turn starting when the
/// previous ends (plus think time); sessions start by a Poisson process of --request-rate per second
/// (inf: all at once) and run concurrently. random: independent prompts without sessions, arriving
/// the same way. --routing both runs the same workload under kv-aware then random routing, each with
/// fresh session ids and a run tag at the head of every prompt, so neither reuses the other's cache.
/// </summary>
internal static class ServeBenchRunner
{
    public static async Task<ServeBenchResult> RunAsync(ServeBenchOptions options, Action<string> progress, CancellationToken cancel)
    {
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5) };
        using var http = new HttpClient(handler) { BaseAddress = new Uri(options.Url.TrimEnd('/') + "/"), Timeout = Timeout.InfiniteTimeSpan };
        var client = new ServeBenchClient(http, options.ApiKey);
        var model = options.Model ?? await client.FirstModelAsync(cancel);
        progress($"model {model} at {options.Url}");

        var sample = new ServeBenchWorkload(options.Seed, 1).Words(new Random(options.Seed), 400);
        var tokensPerWord = await client.TokensPerWordAsync(model, sample, cancel) ?? 1.3;
        progress($"{tokensPerWord:F2} tokens per word (from /tokenize)");
        var workload = new ServeBenchWorkload(options.Seed, tokensPerWord);

        await WarmUpAsync(client, http, model, options, progress, cancel);

        string[] policies = options.Routing switch
        {
            "both" => ["kv-aware", "random"],
            "kv-aware" or "random" => [options.Routing],
            "default" => [""],
            var other => throw new ArgumentException($"--routing must be kv-aware, random, both or default, not '{other}'"),
        };
        var runTag = Guid.NewGuid().ToString("N")[..8];
        var runs = new List<ServeBenchRun>();
        foreach (var policy in policies)
        {
            var tag = $"{runTag}-{(policy.Length > 0 ? policy : "default")}";
            progress($"run {tag}: {options.Dataset}, routing {(policy.Length > 0 ? policy : "the cluster's default")}");
            var samples = options.Dataset switch
            {
                "multi-turn" => await MultiTurnAsync(client, model, workload, options, policy, tag, progress, cancel),
                "random" => await RandomAsync(client, model, workload, options, policy, tag, progress, cancel),
                var other => throw new ArgumentException($"--dataset must be multi-turn or random, not '{other}'"),
            };
            var run = Summarize(policy.Length > 0 ? policy : "default", samples, options);
            progress($"run {tag}: {run.Completed} ok, {run.Failed} failed, ttft p50/p90/p99 {run.TtftMs.P50:F0}/{run.TtftMs.P90:F0}/{run.TtftMs.P99:F0} ms, "
                + $"prefix hit rate {run.PrefixHitRate:P1}, engine switches {run.EngineSwitches}");
            runs.Add(run);
        }

        var kv = runs.FirstOrDefault(r => r.Routing == "kv-aware");
        var random = runs.FirstOrDefault(r => r.Routing == "random");
        double? Ratio(Func<ServeBenchRun, double> figure) =>
            kv is null || random is null || figure(kv) <= 0 ? null : Math.Round(figure(random) / figure(kv), 3);
        return new ServeBenchResult(
            options.Url, model, options.Dataset, options.Sessions, options.Turns,
            double.IsPositiveInfinity(options.RequestRate) ? "inf" : options.RequestRate.ToString("G"),
            options.ThinkTimeS, options.SystemTokens, options.UserTokens, options.MaxTokens, options.Seed, options.MaxConcurrency,
            [.. runs],
            Ratio(r => r.TtftMs.P90), Ratio(r => r.TtftMs.P50), Ratio(r => r.TtftMs.P99), Ratio(r => r.E2eMs.P90),
            options.Dataset == "multi-turn" && options.Turns > 1 ? Ratio(r => r.TtftMsLaterTurns.P90) : null);
    }

    /// <summary>Loads every engine before measuring: random-routed one-token requests until /admin/cluster shows all ready.</summary>
    private static async Task WarmUpAsync(ServeBenchClient client, HttpClient http, string model, ServeBenchOptions options,
        Action<string> progress, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        var messages = () => new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "warm up" });
        for (var i = 0; i < options.Warmup; i++)
        {
            await client.ChatAsync(model, messages(), 2, null, "random", clock, cancel);
        }
        while (clock.Elapsed < TimeSpan.FromSeconds(180))
        {
            JsonArray? engines = null;
            try
            {
                engines = JsonNode.Parse(await http.GetStringAsync("admin/cluster", cancel))?["engines"] as JsonArray;
            }
            catch (HttpRequestException)
            {
            }
            var ofModel = engines?.Where(e => (string?)e?["model"] == model).ToList();
            if (ofModel is null || ofModel.Count == 0 || ofModel.All(e => (string?)e?["state"] == "ready"))
            {
                progress($"warm: {(ofModel is null ? "no /admin/cluster" : string.Join(", ", ofModel.Select(e => $"{e?["id"]} {e?["state"]}")))}");
                return;
            }
            await Task.WhenAll(Enumerable.Range(0, ofModel.Count).Select(_ => client.ChatAsync(model, messages(), 2, null, "random", clock, cancel)));
        }
        progress("warm: not every engine became ready within 180 s");
    }

    private static async Task<List<TurnSample>> MultiTurnAsync(ServeBenchClient client, string model, ServeBenchWorkload workload,
        ServeBenchOptions options, string policy, string tag, Action<string> progress, CancellationToken cancel)
    {
        var sessions = workload.Sessions(options.Sessions, options.Turns, options.SystemTokens, options.UserTokens, tag);
        var arrivals = Arrivals(options.Sessions, options.RequestRate, options.Seed);
        using var limit = options.MaxConcurrency > 0 ? new SemaphoreSlim(options.MaxConcurrency) : null;
        var samples = new ConcurrentBag<TurnSample>();
        var clock = Stopwatch.StartNew();
        var done = 0;
        await Task.WhenAll(sessions.Select(async s =>
        {
            await Delay(arrivals[s.Index] - clock.Elapsed.TotalSeconds, cancel);
            var id = $"bench-{tag}-{s.Index}";
            var conversation = new List<(string Role, string Content)> { ("system", s.SystemPrompt) };
            for (var turn = 0; turn < options.Turns; turn++)
            {
                conversation.Add(("user", s.UserMessages[turn]));
                var messages = new JsonArray([.. conversation.Select(m => (JsonNode)new JsonObject { ["role"] = m.Role, ["content"] = m.Content })]);
                if (limit is not null)
                {
                    await limit.WaitAsync(cancel);
                }
                RequestResult result;
                try
                {
                    result = await client.ChatAsync(model, messages, options.MaxTokens, id, policy.Length > 0 ? policy : null, clock, cancel);
                }
                finally
                {
                    limit?.Release();
                }
                var engine = options.TrackEngines && result.Ok ? await client.SessionEngineAsync(id, cancel) : null;
                samples.Add(new TurnSample(s.Index, turn + 1, result, engine));
                var n = Interlocked.Increment(ref done);
                if (n % Math.Max(1, options.Sessions) == 0)
                {
                    progress($"  {n}/{options.Sessions * options.Turns} turns ({clock.Elapsed.TotalSeconds:F0} s)");
                }
                if (!result.Ok)
                {
                    // the session's history is unknown after a failed turn: stop it
                    break;
                }
                conversation.Add(("assistant", result.Text));
                await Delay(options.ThinkTimeS, cancel);
            }
        }));
        return [.. samples];
    }

    private static async Task<List<TurnSample>> RandomAsync(ServeBenchClient client, string model, ServeBenchWorkload workload,
        ServeBenchOptions options, string policy, string tag, Action<string> progress, CancellationToken cancel)
    {
        var count = options.Sessions * options.Turns;
        var prompts = workload.Prompts(count, options.SystemTokens + options.UserTokens, tag);
        var arrivals = Arrivals(count, options.RequestRate, options.Seed);
        using var limit = options.MaxConcurrency > 0 ? new SemaphoreSlim(options.MaxConcurrency) : null;
        var samples = new ConcurrentBag<TurnSample>();
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
        {
            await Delay(arrivals[i] - clock.Elapsed.TotalSeconds, cancel);
            if (limit is not null)
            {
                await limit.WaitAsync(cancel);
            }
            try
            {
                var messages = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = prompts[i] });
                var result = await client.ChatAsync(model, messages, options.MaxTokens, null, policy.Length > 0 ? policy : null, clock, cancel);
                samples.Add(new TurnSample(i, 1, result, null));
            }
            finally
            {
                limit?.Release();
            }
        }));
        return [.. samples];
    }

    /// <summary>Arrival times in seconds: a Poisson process of <paramref name="rate"/> per second (exponential gaps), or all at 0.</summary>
    private static double[] Arrivals(int count, double rate, int seed)
    {
        var random = new Random(seed);
        var t = 0.0;
        return Enumerable.Range(0, count).Select(i =>
        {
            if (i > 0 && !double.IsPositiveInfinity(rate))
            {
                t += -Math.Log(1 - random.NextDouble()) / rate;
            }
            return t;
        }).ToArray();
    }

    private static Task Delay(double seconds, CancellationToken cancel) =>
        seconds > 0 ? Task.Delay(TimeSpan.FromSeconds(seconds), cancel) : Task.CompletedTask;

    private static ServeBenchRun Summarize(string routing, List<TurnSample> samples, ServeBenchOptions options)
    {
        var ok = samples.Where(s => s.Result.Ok).ToList();
        var results = ok.Select(s => s.Result).ToList();
        var duration = samples.Count == 0 ? 0 : samples.Max(s => s.Result.StartS + s.Result.E2eS) - samples.Min(s => s.Result.StartS);
        long promptTokens = results.Sum(r => (long)r.PromptTokens), cached = results.Sum(r => (long)r.CachedTokens), output = results.Sum(r => (long)r.OutputTokens);
        var multiTurn = options.Dataset == "multi-turn";
        var byTurn = multiTurn
            ? Enumerable.Range(1, options.Turns).Select(t => ok.Where(s => s.Turn == t).Select(s => s.Result).ToList()).ToList()
            : [];
        var switches = -1;
        var perEngine = new Dictionary<string, int>();
        if (multiTurn && options.TrackEngines)
        {
            switches = 0;
            foreach (var session in ok.GroupBy(s => s.Session))
            {
                string? previous = null;
                foreach (var turn in session.OrderBy(s => s.Turn))
                {
                    if (turn.Engine is { } engine)
                    {
                        perEngine[engine] = perEngine.GetValueOrDefault(engine) + 1;
                        if (previous is not null && previous != engine)
                        {
                            switches++;
                        }
                        previous = engine;
                    }
                }
            }
        }
        return new ServeBenchRun(
            routing,
            ok.Count,
            samples.Count - ok.Count,
            Math.Round(duration, 3),
            duration > 0 ? Math.Round(ok.Count / duration, 4) : 0,
            duration > 0 ? Math.Round(output / duration, 2) : 0,
            promptTokens,
            cached,
            output,
            promptTokens > 0 ? Math.Round((double)cached / promptTokens, 4) : 0,
            Stats(results.Select(r => r.TtftS * 1000)),
            Stats(results.Where(r => r.OutputTokens > 1).Select(r => (r.E2eS - r.TtftS) * 1000 / (r.OutputTokens - 1))),
            Stats(results.SelectMany(r => r.ItlS).Select(x => x * 1000)),
            Stats(results.Select(r => r.E2eS * 1000)),
            [.. byTurn.Select(t => Stats(t.Select(r => r.TtftS * 1000)))],
            Stats(ok.Where(s => multiTurn && s.Turn > 1).Select(s => s.Result.TtftS * 1000)),
            [.. byTurn.Select(t => t.Sum(r => r.PromptTokens) is var p and > 0 ? Math.Round((double)t.Sum(r => r.CachedTokens) / p, 4) : 0)],
            switches,
            perEngine,
            [.. samples.Where(s => !s.Result.Ok).Select(s => $"session {s.Session} turn {s.Turn}: {s.Result.Error}").Take(10)]);
    }

    private static LatencyStats Stats(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        if (sorted.Count == 0)
        {
            return new LatencyStats(0, 0, 0, 0, 0, 0);
        }
        return new LatencyStats(sorted.Count, Math.Round(sorted.Average(), 2), Math.Round(Percentiles.Of(sorted, 50), 2),
            Math.Round(Percentiles.Of(sorted, 90), 2), Math.Round(Percentiles.Of(sorted, 99), 2), Math.Round(sorted[^1], 2));
    }
}
