using System.Diagnostics;
using System.Text.Json.Serialization;
using OrleansLlm.Native;

namespace OrleansLlm.Cli.EngineBench;

internal sealed record MultiTurnBenchResult(
    string Model,
    string CpuFeatures,
    int Threads,
    int Turns,
    int PromptTokensAtLastTurn,
    int CachedTokensAtLastTurn,
    double TtftCachedS,
    double TtftUncachedS,
    double TtftSpeedup);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(MultiTurnBenchResult))]
internal sealed partial class MultiTurnBenchJson : JsonSerializerContext;

/// <summary>
/// A conversation whose history grows by turns to about 2,000 tokens at turn 5: a 1,500-token
/// system prompt, then per turn a 64-token user message and a 64-token reply. The conversation runs
/// on an engine with prefix caching and again, with the same prompts, on one without; the figure is
/// the time to first token of turn 5 on each.
/// </summary>
internal static class MultiTurnScenario
{
    private const int Turns = 5;
    private const int SystemTokens = 1500;
    private const int UserTokens = 64;
    private const int ReplyTokens = 64;

    public static MultiTurnBenchResult Run(string modelDir, int threads, Action<string> progress,
        WeightQuantization weights = WeightQuantization.AsStored, KvCacheType kvCache = KvCacheType.ModelDefault) =>
        RunAsync(modelDir, threads, progress, weights, kvCache).GetAwaiter().GetResult();

    private static async Task<MultiTurnBenchResult> RunAsync(string modelDir, int threads, Action<string> progress, WeightQuantization weights, KvCacheType kvCache)
    {
        using var model = NativeModel.Load(modelDir, threads, weights: weights, kvCache: kvCache);
        var random = new Random(5);
        var vocab = model.Description.VocabSize;
        int[] RandomTokens(int n) => Enumerable.Range(0, n).Select(_ => random.Next(vocab)).ToArray();
        var system = RandomTokens(SystemTokens);
        var users = Enumerable.Range(0, Turns).Select(_ => RandomTokens(UserTokens)).ToArray();
        var options = new EngineOptions
        {
            KvCacheBytes = 8192L * model.Description.KvBytesPerToken,
            MaxBatchedTokens = 2048,
            ThreadCount = threads,
        };

        progress("conversation with prefix caching");
        using var cachedEngine = new NativeEngine(model, options);
        await Turn(cachedEngine, system[..32]);  // warm-up: pages in the weights
        var history = new List<int>(system);
        var prompts = new List<int[]>();
        (double Ttft, int Cached, int[] Reply) last = default;
        for (var turn = 0; turn < Turns; turn++)
        {
            history.AddRange(users[turn]);
            prompts.Add([.. history]);
            last = await Turn(cachedEngine, prompts[turn]);
            progress($"turn {turn + 1}: {prompts[turn].Length} prompt tokens, {last.Cached} cached, ttft {last.Ttft:F3} s");
            history.AddRange(last.Reply);
        }

        progress("the same prompts without prefix caching");
        using var uncachedEngine = new NativeEngine(model, options with { EnablePrefixCaching = false });
        await Turn(uncachedEngine, system[..32]);
        (double Ttft, int Cached, int[] Reply) uncached = default;
        foreach (var prompt in prompts)
        {
            uncached = await Turn(uncachedEngine, prompt);
        }
        progress($"turn {Turns} uncached: ttft {uncached.Ttft:F3} s");

        return new MultiTurnBenchResult(
            Path.GetFileName(Path.TrimEndingDirectorySeparator(modelDir)),
            NativeModel.CpuFeatures,
            threads > 0 ? threads : Environment.ProcessorCount,
            Turns,
            prompts[^1].Length,
            last.Cached,
            Math.Round(last.Ttft, 4),
            Math.Round(uncached.Ttft, 4),
            Math.Round(uncached.Ttft / last.Ttft, 2));
    }

    private static async Task<(double Ttft, int Cached, int[] Reply)> Turn(NativeEngine engine, int[] prompt)
    {
        var sampling = SamplingOptions.Greedy(ReplyTokens) with { IgnoreEos = true };
        var reply = new List<int>();
        var ttft = 0.0;
        var cached = 0;
        var clock = Stopwatch.StartNew();
        await foreach (var token in engine.GenerateAsync(prompt, sampling))
        {
            if (reply.Count == 0)
            {
                ttft = clock.Elapsed.TotalSeconds;
                cached = token.CachedPromptTokens;
            }
            reply.Add(token.TokenId);
        }
        return (ttft, cached, [.. reply]);
    }
}
