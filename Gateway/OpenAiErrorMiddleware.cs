using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using OrleansLlm.Gateway.Apis;

namespace OrleansLlm.Gateway;

/// <summary>
/// Every failure of an API request becomes OpenAI error JSON with its status; bodies over the limit
/// get 413; malformed JSON 400. A client that went away is not an error.
/// </summary>
public sealed partial class OpenAiErrorMiddleware(RequestDelegate next, IOptions<GatewayOptions> options, ILogger<OpenAiErrorMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext http)
    {
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = options.Value.MaxRequestBytes;
        }
        try
        {
            await next(http);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            // the client disconnected; its generations were cancelled with it
        }
        catch (Exception e) when (!http.Response.HasStarted)
        {
            var error = e switch
            {
                JsonException j => new OpenAiError(400, $"malformed JSON in the request body: {j.Message}", "invalid_request_error", null, "invalid_json"),
                OverloadedException o => new OpenAiError(429, o.Message, "rate_limit_error", null, "overloaded", 1),
                _ => OpenAiError.From(e),
            };
            if (error.StatusCode >= 500)
            {
                LogFailure(logger, e, http.Request.Method, http.Request.Path);
            }
            await error.ToResult(http).ExecuteAsync(http);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "{Method} {Path} failed")]
    private static partial void LogFailure(ILogger logger, Exception exception, string method, string path);
}
