using Orleans.Runtime;
using Orleans.Storage;

namespace OrleansLlm.Cluster.Tests;

/// <summary>
/// The failures Orleans raises while a silo dies or joins: a caller can tell what happened and retry.
/// Anything else is an unclear failure (a bug, or an error a caller cannot act on).
/// </summary>
public static class FailureKinds
{
    public static bool IsClear(Exception ex) => ex switch
    {
        SiloUnavailableException => true,
        OrleansMessageRejectionException => true,
        TimeoutException => true,
        InconsistentStateException => true,
        // internal to Orleans.Core (Orleans.Runtime.Messaging): a gateway connection that could not be made
        _ when ex.GetType().Name == "ConnectionFailedException" => true,
        _ => false,
    };
}
