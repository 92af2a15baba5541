using System.Diagnostics;
using System.Runtime.CompilerServices;
using OrleansLlm.Grains.Diagnostics;
using OrleansLlm.Grains.Models;
using OrleansLlm.Grains.Routing;
using OrleansLlm.Tokenizers;

namespace OrleansLlm.Grains.Sessions;

/// <summary>How a turn ended, for the session to persist before its last chunk goes out.</summary>
public sealed record TurnOutcome(string Engine, int[] PromptTokenIds, int[] OutputTokenIds, string Text, string FinishReason, TurnUsage Usage);

/// <summary>
/// One turn from messages to streamed text, shared by the session grain and the stateless router:
/// render the chat template, tokenize, route (prefix index against load), stream the engine's
/// tokens through the incremental detokenizer and the stop strings, time it for the metrics.
/// </summary>
public sealed class TurnRunner(ModelCatalog models, EngineRouter router, EngineStatusBoard board, EngineCircuitBreakers breakers, IGrainFactory grains,
    PlatformMetrics metrics, ILocalSiloDetails silo)
{
    /// <param name="onFinished">Called with the outcome before the last chunk is yielded (the session persists there).</param>
    public async IAsyncEnumerable<TurnChunk> RunAsync(TurnRequest turn, IReadOnlyList<ChatMessageRecord>? conversation,
        PreviousTurn? previous, Func<TurnOutcome, Task>? onFinished, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var activity = PlatformMetrics.ActivitySource.StartActivity("turn");
        var tokenizer = models.Tokenizer(turn.Model);
        var prompt = Tokenize(tokenizer, turn, conversation);
        var sampling = turn.Sampling with { MaxTokens = CheckedMaxTokens(turn, prompt.Length, models.MaxModelLength(turn.Model)) };
        var request = new EngineRequest(prompt, sampling, turn.Tenant);
        var (route, tokens, more) = await StartAsync(turn, prompt, previous, request, cancellationToken);
        activity?.SetTag("orleansllm.engine", route.EngineId);
        activity?.SetTag("orleansllm.prompt_tokens", prompt.Length);

        var detokenizer = tokenizer.CreateDetokenizer(skipSpecialTokens: true);
        var stops = new StopStringFilter(turn.Stop);
        var timing = new RequestTiming();
        var output = new List<int>();
        var text = new System.Text.StringBuilder();
        string? finish = null;
        var lastPiece = "";
        TokenLogprobRecord[] lastLogprobs = [];
        int promptTokens = prompt.Length, cachedTokens = 0;
        using var tracked = board.Track(route.EngineId);
        await using var started = tokens;
        for (; more; more = await tokens.MoveNextAsync())
        {
            var token = tokens.Current;
            timing.Token();
            output.Add(token.TokenId);
            promptTokens = token.PromptTokens;
            cachedTokens = token.CachedPromptTokens;
            var piece = stops.Push(detokenizer.Add(token.TokenId));
            if (token.FinishReason is not null || stops.Stopped)
            {
                // the engine request ends here: a stop string leaves the loop, which aborts it
                finish = stops.Stopped ? "stop" : token.FinishReason;
                piece += stops.Stopped ? "" : stops.Push(detokenizer.Flush()) + stops.Flush();
                text.Append(piece);
                lastPiece = piece;
                lastLogprobs = Logprobs(tokenizer, token);
                break;
            }
            text.Append(piece);
            if (piece.Length > 0 || turn.Sampling.Logprobs)
            {
                yield return new TurnChunk { Text = piece, Logprobs = Logprobs(tokenizer, token), Engine = route.EngineId };
            }
        }
        if (finish is null)
        {
            throw new EngineUnavailableException($"engine '{route.EngineId}' ended the request without a finish reason");
        }
        timing.Finish();
        var usage = new TurnUsage(promptTokens, output.Count, cachedTokens);
        metrics.RecordRequest(route.EngineId, silo.Name, timing, promptTokens, cachedTokens, output.Count, finish);
        if (onFinished is not null)
        {
            await onFinished(new TurnOutcome(route.EngineId, prompt, [.. output], text.ToString(), finish, usage));
        }
        yield return new TurnChunk { Text = lastPiece, Logprobs = lastLogprobs, FinishReason = finish, Usage = usage, Engine = route.EngineId };
    }

    /// <summary>
    /// Routes the request and starts it (through the engine's circuit breaker, up to its first
    /// token). An engine that fails to start — its silo just died, its activation refused — has
    /// been sent nothing and the client has seen nothing, so the request is routed again without
    /// it; when no engine is left, the last failure is what the client gets.
    /// </summary>
    private async Task<(RouteDecision Route, IAsyncEnumerator<EngineToken> Tokens, bool More)> StartAsync(TurnRequest turn, int[] prompt,
        PreviousTurn? previous, EngineRequest request, CancellationToken cancellationToken)
    {
        var failed = new HashSet<string>();
        Exception? lastFailure = null;
        while (true)
        {
            RouteDecision route;
            try
            {
                route = await router.ChooseAsync(turn.Model, prompt, turn.Tenant, previous, turn.Routing, cancellationToken, failed);
            }
            catch (EngineUnavailableException) when (lastFailure is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(lastFailure);
                throw;
            }
            var tokens = grains.GetGrain<IEngineGrain>(route.EngineId).Generate(request, cancellationToken).GetAsyncEnumerator(cancellationToken);
            try
            {
                var more = await breakers.StartAsync(route.EngineId, _ => tokens.MoveNextAsync(), cancellationToken);
                return (route, tokens, more);
            }
            catch (Exception e) when (EngineCircuitBreakers.IsEngineFailure(e) && !cancellationToken.IsCancellationRequested)
            {
                await tokens.DisposeAsync();
                failed.Add(route.EngineId);
                lastFailure = e;
            }
        }
    }

    /// <summary>The prompt's token ids: a chat rendered with the model's template, or a raw prompt with the tokenizer's special tokens.</summary>
    public static int[] Tokenize(HfTokenizer tokenizer, TurnRequest turn, IReadOnlyList<ChatMessageRecord>? conversation)
    {
        if (conversation is not null)
        {
            if (!tokenizer.HasChatTemplate)
            {
                throw new InvalidTurnException($"model '{turn.Model}' has no chat template; use /v1/completions", "model");
            }
            var rendered = tokenizer.ApplyChatTemplate(conversation.Select(m => new ChatMessage(m.Role, m.Content)), addGenerationPrompt: true);
            return tokenizer.Encode(rendered, addSpecialTokens: false);
        }
        return tokenizer.Encode(turn.Prompt ?? "", addSpecialTokens: true);
    }

    /// <summary>
    /// The request's max_tokens, or the room its context leaves when it gave none. A request that
    /// cannot fit is refused (400 context_length_exceeded) rather than cut, as OpenAI and vLLM do.
    /// </summary>
    public static int CheckedMaxTokens(TurnRequest turn, int promptTokens, int maxModelLength)
    {
        var param = turn.Messages is null ? "prompt" : "messages";
        if (turn.Sampling.MaxTokens <= 0)
        {
            return promptTokens < maxModelLength
                ? maxModelLength - promptTokens
                : throw new InvalidTurnException($"This model's maximum context length is {maxModelLength} tokens. However, the prompt "
                    + $"has {promptTokens} tokens, which leaves no room for the completion. Reduce the length of the prompt.", param,
                    "context_length_exceeded");
        }
        return promptTokens + turn.Sampling.MaxTokens <= maxModelLength
            ? turn.Sampling.MaxTokens
            : throw new InvalidTurnException($"This model's maximum context length is {maxModelLength} tokens. However, you requested "
                + $"{promptTokens + turn.Sampling.MaxTokens} tokens ({promptTokens} in the prompt, {turn.Sampling.MaxTokens} for the completion). "
                + "Reduce the length of the prompt or max_tokens.", param, "context_length_exceeded");
    }

    private static TokenLogprobRecord[] Logprobs(HfTokenizer tokenizer, EngineToken token) =>
        token.Logprob is { } lp
            ? [new TokenLogprobRecord(tokenizer.Decode([token.TokenId]), lp,
                token.TopLogprobs.Select(a => new TokenLogprobAlternative(tokenizer.Decode([a.TokenId]), a.Logprob)).ToArray())]
            : [];
}
