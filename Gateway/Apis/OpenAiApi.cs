using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using OrleansLlm.Grains;

namespace OrleansLlm.Gateway.Apis;

/// <summary>The OpenAI-compatible endpoints: chat completions, completions, models, and vLLM's tokenize/detokenize.</summary>
public static class OpenAiApi
{
    public static IEndpointRouteBuilder MapOpenAiApiV1(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/chat/completions", (HttpContext http, GenerationHandler handler, IOptions<GatewayOptions> options) =>
            GenerateAsync(http, handler, options.Value, chat: true));
        app.MapPost("/v1/completions", (HttpContext http, GenerationHandler handler, IOptions<GatewayOptions> options) =>
            GenerateAsync(http, handler, options.Value, chat: false));
        app.MapGet("/v1/models", ListModelsAsync);
        app.MapPost("/tokenize", TokenizeAsync);
        app.MapPost("/detokenize", DetokenizeAsync);
        return app;
    }

    public static async Task<JsonElement> ReadBodyAsync(HttpContext http)
    {
        using var document = await JsonDocument.ParseAsync(http.Request.Body, default, http.RequestAborted);
        return document.RootElement.Clone();
    }

    private static async Task<IResult> GenerateAsync(HttpContext http, GenerationHandler handler, GatewayOptions options, bool chat)
    {
        var body = await ReadBodyAsync(http);
        var request = GenerationRequestParser.Parse(body, chat, options);
        var session = http.Request.Headers["X-Session-Id"].ToString();
        if (session.Length > 0 && !chat)
        {
            throw new RequestValidationException("X-Session-Id applies to /v1/chat/completions only", "X-Session-Id");
        }
        return await handler.HandleAsync(http, request, chat, session.Length > 0 ? SessionsApi.CheckId(session) : null, appendToHistory: false);
    }

    private static async Task<IResult> ListModelsAsync(IClusterClient cluster, GrainCallPipeline pipeline, CancellationToken cancel)
    {
        var models = await pipeline.RunAsync(_ => cluster.GetGrain<IRouterGrain>(0).Models(), cancel);
        return TypedResults.Json(new JsonObject
        {
            ["object"] = "list",
            ["data"] = new JsonArray([.. models.Select(m => (JsonNode)new JsonObject
            {
                ["id"] = m, ["object"] = "model", ["created"] = 0, ["owned_by"] = "orleansllm",
            })]),
        });
    }

    private static async Task<IResult> TokenizeAsync(HttpContext http, IClusterClient cluster, GrainCallPipeline pipeline)
    {
        var body = await ReadBodyAsync(http);
        var model = GenerationRequestParser.OptionalString(body, "model") ?? throw new RequestValidationException("'model' is required", "model");
        var addSpecial = GenerationRequestParser.OptionalBool(body, "add_special_tokens") ?? true;
        var router = cluster.GetGrain<IRouterGrain>(0);
        int[] tokens;
        if (GenerationRequestParser.OptionalString(body, "prompt") is { } prompt)
        {
            tokens = await pipeline.RunAsync(_ => router.Tokenize(model, prompt, addSpecial), http.RequestAborted);
        }
        else
        {
            var messages = GenerationRequestParser.Messages(body);
            tokens = await pipeline.RunAsync(_ => router.TokenizeChat(model, messages), http.RequestAborted);
        }
        return TypedResults.Json(new JsonObject
        {
            ["count"] = tokens.Length,
            ["tokens"] = new JsonArray([.. tokens.Select(t => (JsonNode)JsonValue.Create(t))]),
        });
    }

    private static async Task<IResult> DetokenizeAsync(HttpContext http, IClusterClient cluster, GrainCallPipeline pipeline)
    {
        var body = await ReadBodyAsync(http);
        var model = GenerationRequestParser.OptionalString(body, "model") ?? throw new RequestValidationException("'model' is required", "model");
        if (!body.TryGetProperty("tokens", out var tokens) || tokens.ValueKind != JsonValueKind.Array
            || tokens.EnumerateArray().Any(t => t.ValueKind != JsonValueKind.Number || !t.TryGetInt32(out _)))
        {
            throw new RequestValidationException("'tokens' must be an array of integers", "tokens");
        }
        var ids = tokens.EnumerateArray().Select(t => t.GetInt32()).ToArray();
        var text = await pipeline.RunAsync(_ => cluster.GetGrain<IRouterGrain>(0).Detokenize(model, ids), http.RequestAborted);
        return TypedResults.Json(new JsonObject { ["prompt"] = text });
    }
}
