using System.Runtime.CompilerServices;
using Orleans.Concurrency;
using OrleansLlm.Grains.Models;
using OrleansLlm.Grains.Routing;

namespace OrleansLlm.Grains.Sessions;

/// <summary>Turns without a session: same routing and streaming as a session turn, no history. One per silo.</summary>
// One activation per silo: a streamed call's MoveNext calls must reach the activation that holds its
// enumerator, and a second local worker would answer "the remote target does not have a record of
// this enumerator". For the same reason the worker is never removed as idle: Orleans' idle-worker
// removal (on by default, a check every 500 ms) counts a worker with no call running as idle, and
// between two MoveNext calls of a long generation that is true, so it deactivated the worker in the
// middle of a stream (EnumerationAbortedException). Reentrant, so the one activation serves every
// request at once.
[StatelessWorker(1, removeIdleWorkers: false)]
[Reentrant]
public sealed class RouterGrain(TurnRunner runner, ModelCatalog models, EngineStatusBoard board) : Grain, IRouterGrain
{
    public async Task<string[]> Models()
    {
        var registered = await GrainFactory.GetGrain<IEngineRegistryGrain>(PlatformNames.RegistryKey).List();
        return [.. registered.Select(e => e.Model).Distinct().Order()];
    }

    public Task<int[]> Tokenize(string model, string text, bool addSpecialTokens) =>
        Task.FromResult(models.Tokenizer(model).Encode(text, addSpecialTokens));

    public Task<int[]> TokenizeChat(string model, ChatMessageRecord[] messages) =>
        Task.FromResult(TurnRunner.Tokenize(models.Tokenizer(model), new TurnRequest { Model = model }, messages));

    public Task<string> Detokenize(string model, int[] tokenIds)
    {
        var tokenizer = models.Tokenizer(model);
        foreach (var id in tokenIds)
        {
            if (id < 0 || id >= tokenizer.VocabSize)
            {
                throw new InvalidTurnException($"token id {id} is outside the vocabulary (0..{tokenizer.VocabSize - 1})", "tokens");
            }
        }
        return Task.FromResult(tokenizer.Decode(tokenIds));
    }

    public Task<EngineStatus[]> Engines() => Task.FromResult(board.All.ToArray());

    public async IAsyncEnumerable<TurnChunk> Complete(TurnRequest turn, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var chunk in runner.RunAsync(turn, turn.Messages, null, null, cancellationToken))
        {
            yield return chunk;
        }
    }
}
