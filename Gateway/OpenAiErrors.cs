using System.Text.Json.Nodes;
using Orleans.Runtime;
using OrleansLlm.Grains;

namespace OrleansLlm.Gateway;

/// <summary>A request the gateway refuses before any grain sees it (HTTP 400 unless said otherwise).</summary>
public sealed class RequestValidationException(string message, string? param = null, int statusCode = 400, string code = "invalid_request")
    : Exception(message)
{
    public string? Param { get; } = param;
    public int StatusCode { get; } = statusCode;
    public string Code { get; } = code;
}

/// <summary>An error as the OpenAI API writes it: <c>{"error":{"message","type","param","code"}}</c>, with its HTTP status.</summary>
public sealed record OpenAiError(int StatusCode, string Message, string Type, string? Param, string? Code, int? RetryAfterSeconds = null)
{
    public JsonObject ToJson() => new()
    {
        ["error"] = new JsonObject
        {
            ["message"] = Message,
            ["type"] = Type,
            ["param"] = Param,
            ["code"] = Code,
        },
    };

    public IResult ToResult(HttpContext http)
    {
        if (RetryAfterSeconds is { } s)
        {
            http.Response.Headers.RetryAfter = s.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        return TypedResults.Json(ToJson(), statusCode: StatusCode);
    }

    public static OpenAiError NotFound(string message, string? param = null, string code = "not_found") =>
        new(404, message, "invalid_request_error", param, code);

    /// <summary>The error a failure stands for; whatever is not recognised is a 500 that names its type.</summary>
    public static OpenAiError From(Exception e) => e switch
    {
        RequestValidationException v => new(v.StatusCode, v.Message, "invalid_request_error", v.Param, v.Code),
        InvalidTurnException t => new(t.StatusCode, t.Message, "invalid_request_error", t.Param, t.Code),
        SessionBusyException b => new(409, b.Message, "invalid_request_error", null, "session_busy"),
        EngineUnavailableException u => new(503, u.Message, "service_unavailable", null, "engine_unavailable", 1),
        SiloUnavailableException or OrleansMessageRejectionException or Orleans.Runtime.Messaging.ConnectionFailedException or TimeoutException
            or EnumerationAbortedException =>
            new(503, $"the cluster could not serve the request ({e.GetType().Name}): {e.Message}", "service_unavailable", null, "cluster_unavailable", 1),
        BadHttpRequestException { StatusCode: 413 } => new(413, "the request body is larger than the gateway accepts", "invalid_request_error", null, "payload_too_large"),
        BadHttpRequestException bad => new(bad.StatusCode, bad.Message, "invalid_request_error", null, "bad_request"),
        _ => new(500, $"internal error ({e.GetType().Name}): {e.Message}", "server_error", null, "internal_error"),
    };
}
