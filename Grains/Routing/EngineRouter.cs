using Microsoft.Extensions.Options;
using OrleansLlm.Grains.PrefixIndex;
using OrleansLlm.Native;

namespace OrleansLlm.Grains.Routing;

/// <summary>A session's previous turn: the engine it ran on and its prompt's token ids.</summary>
public sealed record PreviousTurn(string Engine, IReadOnlyList<int> PromptTokenIds);

/// <summary>The engine a prompt goes to, and how many of its blocks that engine was said to hold.</summary>
public sealed record RouteDecision(string EngineId, int CachedBlocks, int BlockSizeTokens);

/// <summary>
/// Chooses an engine for a prompt. KV-aware: score = cached leading blocks (from the prefix index)
/// − <see cref="PlatformOptions.LoadPenaltyBlocks"/> × queued requests (running + waiting, or the
/// requests this silo routed there since, whichever is larger) + a bonus for the session's previous
/// engine; ties go to the lighter engine. Random: any engine of the model, uniformly.
/// </summary>
public sealed class EngineRouter(EngineStatusBoard board, IPrefixIndex index, EngineCircuitBreakers breakers, IOptions<PlatformOptions> options)
{
    public const int DefaultBlockSizeTokens = 16;

    /// <param name="previous">
    /// The session's previous turn: its engine gets the affinity bonus, and the blocks this prompt shares with its
    /// prompt are in that engine's cache even before its KV events reach the prefix index (they are sent once per
    /// engine tick, and its status, still counting the previous turn as running, lags as long).
    /// </param>
    /// <param name="excluded">Engines this request already failed to start on (skipped).</param>
    public async Task<RouteDecision> ChooseAsync(string model, IReadOnlyList<int> promptTokens, string tenant, PreviousTurn? previous,
        RoutingPolicy? policy, CancellationToken cancellationToken, IReadOnlySet<string>? excluded = null)
    {
        var engines = (await board.EnginesOfAsync(model))
            .Where(e => e.State != EngineState.Failed && (excluded is null || !excluded.Contains(e.EngineId))).ToList();
        if (engines.Count == 0)
        {
            throw new EngineUnavailableException($"no engine of model '{model}' is available in the cluster");
        }
        engines = engines.Where(e => breakers.IsAvailable(e.EngineId)).ToList();
        if (engines.Count == 0)
        {
            throw new EngineUnavailableException($"every engine of model '{model}' failed repeatedly just now; retry in a few seconds");
        }
        var blockSize = engines.Select(e => e.BlockSizeTokens).FirstOrDefault(b => b > 0, DefaultBlockSizeTokens);
        if ((policy ?? options.Value.Routing) == RoutingPolicy.Random)
        {
            return new RouteDecision(engines[Random.Shared.Next(engines.Count)].EngineId, 0, blockSize);
        }
        var hashes = BlockHash.Chain(promptTokens.ToArray(), blockSize, tenant);
        var cached = await index.LookupAsync(hashes, cancellationToken);
        if (previous is { PromptTokenIds.Count: > 0 })
        {
            var shared = 0;
            while (shared < previous.PromptTokenIds.Count && shared < promptTokens.Count && previous.PromptTokenIds[shared] == promptTokens[shared])
            {
                shared++;
            }
            cached = new Dictionary<string, int>(cached) { [previous.Engine] = Math.Max(cached.GetValueOrDefault(previous.Engine), shared / blockSize) };
        }
        var best = engines
            .Select(e => (Engine: e, Cached: cached.GetValueOrDefault(e.EngineId), Load: Math.Max(e.Running + e.Waiting, board.InFlight(e.EngineId))))
            .OrderByDescending(c => c.Cached - options.Value.LoadPenaltyBlocks * c.Load
                + (c.Engine.EngineId == previous?.Engine ? options.Value.AffinityBonusBlocks : 0))
            .ThenBy(c => c.Load)
            .ThenBy(_ => Random.Shared.Next())
            .First();
        return new RouteDecision(best.Engine.EngineId, best.Cached, blockSize);
    }
}
