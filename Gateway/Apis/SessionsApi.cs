using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using OrleansLlm.Grains;

namespace OrleansLlm.Gateway.Apis;

/// <summary>
/// Server-side sessions: create, read (history and the silo hosting it), add a turn (the posted
/// messages follow the stored history), delete. <c>X-Session-Id</c> on chat completions uses the
/// same grains with client-sent history.
/// </summary>
public static class SessionsApi
{
    public static IEndpointRouteBuilder MapSessionsApiV1(this IEndpointRouteBuilder app)
    {
        var sessions = app.MapGroup("/v1/sessions");
        sessions.MapPost("/", CreateAsync);
        sessions.MapGet("/{id}", GetAsync);
        sessions.MapPost("/{id}/messages", AddTurnAsync);
        sessions.MapDelete("/{id}", DeleteAsync);
        return app;
    }

    /// <summary>Session ids are 1–128 characters of letters, digits, '-', '_', '.', ':'.</summary>
    public static string CheckId(string id) =>
        id.Length is > 0 and <= 128 && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':')
            ? id
            : throw new RequestValidationException("a session id is 1 to 128 characters of letters, digits, '-', '_', '.', ':'", "session_id");

    private static async Task<IResult> CreateAsync(HttpContext http, IClusterClient cluster, GrainCallPipeline pipeline)
    {
        var body = await OpenAiApi.ReadBodyAsync(http);
        var model = GenerationRequestParser.OptionalString(body, "model") ?? throw new RequestValidationException("'model' is required", "model");
        var models = await pipeline.RunAsync(_ => cluster.GetGrain<IRouterGrain>(0).Models(), http.RequestAborted);
        if (!models.Contains(model))
        {
            return OpenAiError.NotFound($"The model '{model}' does not exist", "model", "model_not_found").ToResult(http);
        }
        var id = CheckId(GenerationRequestParser.OptionalString(body, "id") ?? "sess-" + Guid.NewGuid().ToString("N"));
        var messages = GenerationRequestParser.Messages(body, required: false);
        var view = await pipeline.RunAsync(_ => cluster.GetGrain<ISessionGrain>(id).Create(model, messages), http.RequestAborted);
        return TypedResults.Json(ToJson(view), statusCode: 201);
    }

    private static async Task<IResult> GetAsync(string id, HttpContext http, IClusterClient cluster, GrainCallPipeline pipeline)
    {
        var view = await pipeline.RunAsync(_ => cluster.GetGrain<ISessionGrain>(CheckId(id)).Get(), http.RequestAborted);
        return view.Exists ? TypedResults.Json(ToJson(view)) : OpenAiError.NotFound($"session '{id}' does not exist", "session_id", "session_not_found").ToResult(http);
    }

    private static async Task<IResult> AddTurnAsync(string id, HttpContext http, IClusterClient cluster, GrainCallPipeline pipeline,
        GenerationHandler handler, IOptions<GatewayOptions> options)
    {
        var session = await pipeline.RunAsync(_ => cluster.GetGrain<ISessionGrain>(CheckId(id)).Get(), http.RequestAborted);
        if (!session.Exists)
        {
            return OpenAiError.NotFound($"session '{id}' does not exist", "session_id", "session_not_found").ToResult(http);
        }
        var body = await OpenAiApi.ReadBodyAsync(http);
        var request = GenerationRequestParser.Parse(body, chat: true, options.Value, session.Model);
        return await handler.HandleAsync(http, request, chat: true, id, appendToHistory: true);
    }

    private static async Task<IResult> DeleteAsync(string id, HttpContext http, IClusterClient cluster, GrainCallPipeline pipeline)
    {
        var existed = await pipeline.RunAsync(_ => cluster.GetGrain<ISessionGrain>(CheckId(id)).Delete(), http.RequestAborted);
        return existed
            ? TypedResults.Json(new JsonObject { ["id"] = id, ["object"] = "session.deleted", ["deleted"] = true })
            : OpenAiError.NotFound($"session '{id}' does not exist", "session_id", "session_not_found").ToResult(http);
    }

    private static JsonObject ToJson(SessionView view) => new()
    {
        ["id"] = view.Id,
        ["object"] = "session",
        ["model"] = view.Model,
        ["silo"] = view.Silo,
        ["last_engine"] = view.LastEngine,
        ["turns"] = view.TurnCount,
        ["messages"] = new JsonArray([.. view.Messages.Select(m => (JsonNode)new JsonObject
        {
            ["role"] = m.Role,
            ["content"] = m.Content,
            ["token_ids"] = new JsonArray([.. m.TokenIds.Select(t => (JsonNode)JsonValue.Create(t))]),
            ["created"] = new DateTimeOffset(m.CreatedUtc).ToUnixTimeSeconds(),
        })]),
    };
}
