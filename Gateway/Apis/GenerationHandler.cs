using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using OrleansLlm.Grains;

namespace OrleansLlm.Gateway.Apis;

/// <summary>
/// Runs the n choices of a chat or completions request through the cluster and writes the reply:
/// one JSON body, or server-sent events. Nothing is written until every choice has produced its
/// first chunk, so a refusal (400, 404, 409, 503) is still an HTTP status; after that, a failure
/// ends the stream with an error event and no <c>[DONE]</c>. The client's disconnect cancels
/// every choice, which aborts its generation in the engine.
/// </summary>
public sealed class GenerationHandler(IClusterClient cluster, GenerationLimiter limiter)
{
    /// <summary>The response header naming the engine of each choice ("silo-0/cpu0", comma-separated for n &gt; 1).</summary>
    public const string EngineHeader = "X-OrleansLlm-Engine";

    private static readonly JsonSerializerOptions s_json = new() { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.Never };

    public async Task<IResult> HandleAsync(HttpContext http, GenerationRequest request, bool chat, string? sessionId, bool appendToHistory)
    {
        if (sessionId is not null && request.N > 1)
        {
            throw new RequestValidationException("'n' must be 1 for a session turn (a session keeps one conversation)", "n");
        }
        using var lease = limiter.TryAcquire(request.N)
            ?? throw new OverloadedException();
        var tenant = ApiKeyAuthentication.TenantOf(http);
        var routing = RoutingOf(http);
        using var choices = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        var events = Channel.CreateUnbounded<(int Choice, TurnChunk? Chunk, Exception? Error)>();
        var pumps = Enumerable.Range(0, request.N).Select(i => PumpAsync(i, Source(request.ToTurn(tenant, i, routing) with { AppendToHistory = appendToHistory },
            sessionId, choices.Token), events.Writer, choices.Token)).ToArray();
        _ = Task.WhenAll(pumps).ContinueWith(_ => events.Writer.TryComplete(), TaskScheduler.Default);
        try
        {
            return await RespondAsync(http, request, chat, events.Reader);
        }
        finally
        {
            // a failed choice, or a reply that ended early, leaves no other choice generating in an engine
            await choices.CancelAsync();
        }
    }

    private static async Task<IResult> RespondAsync(HttpContext http, GenerationRequest request, bool chat,
        ChannelReader<(int Choice, TurnChunk? Chunk, Exception? Error)> events)
    {
        var cancel = http.RequestAborted;

        var id = (chat ? "chatcmpl-" : "cmpl-") + Guid.NewGuid().ToString("N")[..24];
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var reply = new Reply(request.N);
        // hold everything until each choice has answered once (or one failed)
        var pending = new Queue<(int Choice, TurnChunk Chunk)>();
        var started = new bool[request.N];
        var engines = new string[request.N];
        while (started.Contains(false) && await events.WaitToReadAsync(cancel))
        {
            var e = await events.ReadAsync(cancel);
            if (e.Error is not null)
            {
                throw e.Error;
            }
            if (!started[e.Choice])
            {
                engines[e.Choice] = e.Chunk!.Engine;
            }
            started[e.Choice] = true;
            pending.Enqueue((e.Choice, e.Chunk!));
        }
        // which engine serves each choice, in choice order (for operators and the fault tests)
        http.Response.Headers[EngineHeader] = string.Join(",", engines);
        if (!chat && request.Echo && request.Prompt is { Length: > 0 } echoed)
        {
            // echo: each choice's text starts with the prompt
            pending = new Queue<(int Choice, TurnChunk Chunk)>(
                [.. Enumerable.Range(0, request.N).Select(i => (i, new TurnChunk { Text = echoed })), .. pending]);
        }
        if (!request.Stream)
        {
            while (pending.TryDequeue(out var p))
            {
                reply.Add(p.Choice, p.Chunk);
            }
            await foreach (var e in events.ReadAllAsync(cancel))
            {
                if (e.Error is not null)
                {
                    throw e.Error;
                }
                reply.Add(e.Choice, e.Chunk!);
            }
            return TypedResults.Json(chat ? reply.ChatCompletion(id, created, request.Model) : reply.TextCompletion(id, created, request.Model));
        }

        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        if (chat)
        {
            for (var i = 0; i < request.N; i++)
            {
                await WriteEventAsync(http, ChatChunk(id, created, request.Model, i, new JsonObject { ["role"] = "assistant", ["content"] = "" }, null, null), cancel);
            }
        }
        try
        {
            while (true)
            {
                (int Choice, TurnChunk Chunk) next;
                if (!pending.TryDequeue(out next))
                {
                    if (!await events.WaitToReadAsync(cancel))
                    {
                        break;
                    }
                    var e = await events.ReadAsync(cancel);
                    if (e.Error is not null)
                    {
                        throw e.Error;
                    }
                    next = (e.Choice, e.Chunk!);
                }
                reply.Add(next.Choice, next.Chunk);
                var c = next.Chunk;
                var logprobs = request.Sampling.Logprobs ? Reply.LogprobsJson(c.Logprobs, chat) : null;
                await WriteEventAsync(http, chat
                    ? ChatChunk(id, created, request.Model, next.Choice, c.FinishReason is null || c.Text.Length > 0 ? new JsonObject { ["content"] = c.Text } : new JsonObject(), c.FinishReason, logprobs)
                    : new JsonObject
                    {
                        ["id"] = id, ["object"] = "text_completion", ["created"] = created, ["model"] = request.Model,
                        ["choices"] = new JsonArray(new JsonObject { ["index"] = next.Choice, ["text"] = c.Text, ["logprobs"] = logprobs, ["finish_reason"] = c.FinishReason }),
                    }, cancel);
            }
        }
        catch (Exception e) when (!cancel.IsCancellationRequested)
        {
            await WriteEventAsync(http, OpenAiError.From(e).ToJson(), cancel);
            return TypedResults.Empty;
        }
        if (request.IncludeUsage)
        {
            await WriteEventAsync(http, new JsonObject
            {
                ["id"] = id, ["object"] = chat ? "chat.completion.chunk" : "text_completion", ["created"] = created, ["model"] = request.Model,
                ["choices"] = new JsonArray(), ["usage"] = reply.UsageJson(),
            }, cancel);
        }
        await http.Response.WriteAsync("data: [DONE]\n\n", cancel);
        return TypedResults.Empty;
    }

    private IAsyncEnumerable<TurnChunk> Source(TurnRequest turn, string? sessionId, CancellationToken cancel) =>
        sessionId is null
            ? cluster.GetGrain<IRouterGrain>(0).Complete(turn, cancel)
            : cluster.GetGrain<ISessionGrain>(sessionId).Chat(turn, cancel);

    private static async Task PumpAsync(int choice, IAsyncEnumerable<TurnChunk> source,
        ChannelWriter<(int, TurnChunk?, Exception?)> writer, CancellationToken cancel)
    {
        try
        {
            await foreach (var chunk in source.WithCancellation(cancel))
            {
                await writer.WriteAsync((choice, chunk, null), cancel);
            }
        }
        catch (Exception e)
        {
            writer.TryWrite((choice, null, e));
        }
    }

    private static RoutingPolicy? RoutingOf(HttpContext http) => http.Request.Headers["X-Routing"].ToString() switch
    {
        "" => null,
        "random" => RoutingPolicy.Random,
        "kv-aware" => RoutingPolicy.KvAware,
        var other => throw new RequestValidationException($"X-Routing must be 'kv-aware' or 'random', not '{other}'", "X-Routing"),
    };

    private static JsonObject ChatChunk(string id, long created, string model, int index, JsonObject delta, string? finish, JsonNode? logprobs) => new()
    {
        ["id"] = id, ["object"] = "chat.completion.chunk", ["created"] = created, ["model"] = model,
        ["choices"] = new JsonArray(new JsonObject { ["index"] = index, ["delta"] = delta, ["logprobs"] = logprobs, ["finish_reason"] = finish }),
    };

    private static async Task WriteEventAsync(HttpContext http, JsonNode payload, CancellationToken cancel)
    {
        await http.Response.WriteAsync("data: " + payload.ToJsonString(s_json) + "\n\n", cancel);
        await http.Response.Body.FlushAsync(cancel);
    }
}

/// <summary>Too many generations in flight (HTTP 429 with Retry-After).</summary>
public sealed class OverloadedException() : Exception("the gateway is at its limit of concurrent generations; retry shortly");

/// <summary>Bounds the generations in flight through this gateway.</summary>
public sealed class GenerationLimiter(Microsoft.Extensions.Options.IOptions<GatewayOptions> options)
{
    private int _inFlight;

    public IDisposable? TryAcquire(int count)
    {
        if (Interlocked.Add(ref _inFlight, count) > options.Value.MaxConcurrentGenerations)
        {
            Interlocked.Add(ref _inFlight, -count);
            return null;
        }
        return new Lease(this, count);
    }

    private sealed class Lease(GenerationLimiter owner, int count) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                Interlocked.Add(ref owner._inFlight, -count);
            }
        }
    }
}
