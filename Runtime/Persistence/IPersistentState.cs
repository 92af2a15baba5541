namespace OrleansLlm.Runtime;

/// <summary>A grain's persisted state (read before activation; written explicitly, ETag-checked).</summary>
public interface IPersistentState<TState> where TState : new()
{
    TState State { get; set; }

    /// <summary>Version of the stored record this activation last read or wrote; null when none exists.</summary>
    string? Etag { get; }

    bool RecordExists { get; }

    Task ReadStateAsync(CancellationToken cancellationToken = default);

    /// <summary>Writes <see cref="State"/>; throws <see cref="InconsistentStateException"/> if the record changed since it was read.</summary>
    Task WriteStateAsync(CancellationToken cancellationToken = default);

    Task ClearStateAsync(CancellationToken cancellationToken = default);
}

/// <summary>The activation (silo and directory epoch) on whose behalf a write is made.</summary>
public readonly record struct ActivationFence(string SiloId, long Epoch);

public sealed record StoredState(byte[] Data, string Etag);

/// <summary>A storage provider. Writes are conditional on the ETag and on the activation still owning the grain.</summary>
public interface IGrainStorage
{
    Task<StoredState?> ReadAsync(GrainId grainId, string stateName, CancellationToken cancellationToken);

    /// <summary>Returns the new ETag.</summary>
    Task<string> WriteAsync(GrainId grainId, string stateName, byte[] data, string? expectedEtag, ActivationFence fence, CancellationToken cancellationToken);

    Task ClearAsync(GrainId grainId, string stateName, string? expectedEtag, ActivationFence fence, CancellationToken cancellationToken);
}

/// <summary>The stored record's ETag differs from the one the writer last saw.</summary>
public sealed class InconsistentStateException(GrainId grainId, string stateName, string? expectedEtag, string? currentEtag)
    : GrainRuntimeException($"state '{stateName}' of {grainId} changed concurrently: expected ETag '{expectedEtag ?? "(none)"}', store has '{currentEtag ?? "(none)"}'")
{
    public string? ExpectedEtag { get; } = expectedEtag;
    public string? CurrentEtag { get; } = currentEtag;
}

/// <summary>The writing activation no longer owns its grain (a newer epoch exists or its lease lapsed); the write was refused.</summary>
public sealed class ActivationFencedException(GrainId grainId, ActivationFence fence)
    : GrainRuntimeException($"activation of {grainId} (silo {fence.SiloId}, epoch {fence.Epoch}) no longer owns the grain; write refused")
{
}
