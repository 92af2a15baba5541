using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace OrleansLlm.Runtime;

internal interface IStateLoader
{
    Task ReadStateAsync(CancellationToken cancellationToken);
}

internal sealed class PersistentState<TState>(
    GrainId grainId,
    string stateName,
    IGrainStorage storage,
    JsonTypeInfo<TState> jsonType,
    Func<ActivationFence> fence) : IPersistentState<TState>, IStateLoader
    where TState : new()
{
    public TState State { get; set; } = new();

    public string? Etag { get; private set; }

    public bool RecordExists => Etag is not null;

    public async Task ReadStateAsync(CancellationToken cancellationToken = default)
    {
        var stored = await storage.ReadAsync(grainId, stateName, cancellationToken);
        if (stored is null)
        {
            State = new();
            Etag = null;
            return;
        }
        State = JsonSerializer.Deserialize(stored.Data, jsonType) ?? new();
        Etag = stored.Etag;
    }

    public async Task WriteStateAsync(CancellationToken cancellationToken = default)
    {
        var data = JsonSerializer.SerializeToUtf8Bytes(State, jsonType);
        Etag = await storage.WriteAsync(grainId, stateName, data, Etag, fence(), cancellationToken);
    }

    public async Task ClearStateAsync(CancellationToken cancellationToken = default)
    {
        await storage.ClearAsync(grainId, stateName, Etag, fence(), cancellationToken);
        State = new();
        Etag = null;
    }
}
