using Microsoft.Extensions.Logging;

namespace OrleansLlm.Runtime;

internal sealed partial class ActivationCatalog
{
    [LoggerMessage(Level = LogLevel.Debug, Message = "activated {GrainId} (epoch {Epoch})")]
    private partial void LogActivated(GrainId grainId, long epoch);

    [LoggerMessage(Level = LogLevel.Debug, Message = "deactivated {GrainId} (epoch {Epoch})")]
    private partial void LogDeactivated(GrainId grainId, long epoch);

    [LoggerMessage(Level = LogLevel.Warning, Message = "dropped {Count} activations: silo {SiloId} lost its lease")]
    private partial void LogDroppedAll(int count, string siloId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "calls to {GrainId} did not finish in time for deactivation")]
    private partial void LogDrainTimedOut(GrainId grainId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "deactivation of {GrainId} failed")]
    private partial void LogDeactivationError(Exception exception, GrainId grainId);
}
