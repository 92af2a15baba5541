namespace OrleansLlm.Runtime;

/// <summary>Grain state in process memory, fenced by an <see cref="InMemoryClusterStore"/> (embedded mode).</summary>
public sealed class InMemoryGrainStorage(InMemoryClusterStore cluster) : IGrainStorage
{
    private readonly Lock _lock = new();
    private readonly Dictionary<(GrainId, string), StoredState> _states = [];
    private long _version;

    public Task<StoredState?> ReadAsync(GrainId grainId, string stateName, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult(_states.GetValueOrDefault((grainId, stateName)));
        }
    }

    public Task<string> WriteAsync(GrainId grainId, string stateName, byte[] data, string? expectedEtag, ActivationFence fence, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            Check(grainId, stateName, expectedEtag, fence);
            var etag = (++_version).ToString(System.Globalization.CultureInfo.InvariantCulture);
            _states[(grainId, stateName)] = new StoredState(data, etag);
            return Task.FromResult(etag);
        }
    }

    public Task ClearAsync(GrainId grainId, string stateName, string? expectedEtag, ActivationFence fence, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            Check(grainId, stateName, expectedEtag, fence);
            _states.Remove((grainId, stateName));
            return Task.CompletedTask;
        }
    }

    private void Check(GrainId grainId, string stateName, string? expectedEtag, ActivationFence fence)
    {
        if (!cluster.Owns(grainId, fence))
        {
            throw new ActivationFencedException(grainId, fence);
        }
        var current = _states.GetValueOrDefault((grainId, stateName))?.Etag;
        if (current != expectedEtag)
        {
            throw new InconsistentStateException(grainId, stateName, expectedEtag, current);
        }
    }
}
