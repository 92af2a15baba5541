namespace OrleansLlm.Grains;

/// <summary>A turn was asked of a session that is already running one (HTTP 409).</summary>
[GenerateSerializer, Alias("OrleansLlm.SessionBusyException")]
public sealed class SessionBusyException(string message) : Exception(message);

/// <summary>The request is invalid for the model: unknown model, context too long, bad parameter (HTTP 400/404).</summary>
[GenerateSerializer, Alias("OrleansLlm.InvalidTurnException")]
public sealed class InvalidTurnException : Exception
{
    public InvalidTurnException(string message, string? param = null, string code = "invalid_request", int statusCode = 400)
        : base(message)
    {
        Param = param;
        Code = code;
        StatusCode = statusCode;
    }

    [Id(0)] public string? Param { get; init; }
    [Id(1)] public string Code { get; init; }
    [Id(2)] public int StatusCode { get; init; }
}

/// <summary>No engine can take the request now: none ready, or its silo is gone (HTTP 503).</summary>
[GenerateSerializer, Alias("OrleansLlm.EngineUnavailableException")]
public sealed class EngineUnavailableException(string message) : Exception(message);
