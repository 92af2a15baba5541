namespace OrleansLlm.Runtime;

/// <summary>Base of the runtime's own errors.</summary>
public class GrainRuntimeException : Exception
{
    public GrainRuntimeException(string message) : base(message) { }
    public GrainRuntimeException(string message, Exception? inner) : base(message, inner) { }
}

/// <summary>
/// An exception thrown by remote grain code whose type could not be recreated on the caller;
/// <see cref="RemoteExceptionType"/> names the original type.
/// </summary>
public sealed class RemoteGrainException(string remoteExceptionType, string message)
    : GrainRuntimeException($"{remoteExceptionType}: {message}")
{
    public string RemoteExceptionType { get; } = remoteExceptionType;
    public string RemoteMessage { get; } = message;
}

/// <summary>No live silo can host the grain (e.g. a pinned grain whose silo is down, or an empty cluster).</summary>
public sealed class NoSiloAvailableException(string message) : GrainRuntimeException(message);

/// <summary>
/// The silo executing a call failed or became unreachable after the call was sent: the call may or
/// may not have run, so it is not retried.
/// </summary>
public sealed class CallOutcomeUnknownException(string message, Exception? inner)
    : GrainRuntimeException(message, inner);

/// <summary>The call did not complete within its timeout.</summary>
public sealed class GrainCallTimeoutException(string message) : TimeoutException(message);

/// <summary>
/// The call was provably not executed (wrong silo, silo stopping, activation lost, unreachable
/// before send). The call pipeline retries these; callers see one only when retries ran out.
/// </summary>
public sealed class CallNotExecutedException(string reason, string? redirectSiloId = null, string? redirectAddress = null)
    : GrainRuntimeException($"call not executed: {reason}")
{
    public string Reason { get; } = reason;
    public string? RedirectSiloId { get; } = redirectSiloId;
    public string? RedirectAddress { get; } = redirectAddress;

    /// <summary>The target silo could not be reached at all.</summary>
    public bool Unreachable { get; init; }

    /// <summary>Set when no silo could be chosen; the caller gets this error if retries run out.</summary>
    public NoSiloAvailableException? Placement { get; init; }
}

/// <summary>The cluster store (Redis) did not answer; the operation did not take effect or its outcome is unknown.</summary>
public sealed class ClusterStoreUnavailableException(string message, Exception? inner) : GrainRuntimeException(message, inner);
