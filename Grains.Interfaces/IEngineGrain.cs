namespace OrleansLlm.Grains;

/// <summary>
/// One native engine pinned to one device of one silo (key: <see cref="EngineId"/>). It is placed
/// only on the silo that owns the device; when that silo is gone, calls fail fast.
/// </summary>
[Alias("OrleansLlm.IEngineGrain")]
public interface IEngineGrain : IGrainWithStringKey
{
    /// <summary>Streams the tokens of one request; cancelling aborts it in the engine.</summary>
    [Alias("Generate")]
    IAsyncEnumerable<EngineToken> Generate(EngineRequest request, CancellationToken cancellationToken = default);

    [Alias("GetStatus")]
    Task<EngineStatus> GetStatus();

    /// <summary>Loads the model now (otherwise the first request does).</summary>
    [Alias("Warm")]
    Task<EngineStatus> Warm();
}

/// <summary>The engines of the cluster, as registered by their silos (key: "cluster").</summary>
[Alias("OrleansLlm.IEngineRegistryGrain")]
public interface IEngineRegistryGrain : IGrainWithStringKey
{
    [Alias("Register")]
    Task Register(EngineStatus engine);

    [Alias("List")]
    Task<EngineStatus[]> List();

    [Alias("RegisterSilo")]
    Task RegisterSilo(SiloRecord silo);

    [Alias("ListSilos")]
    Task<SiloRecord[]> ListSilos();
}

/// <summary>A silo process as it registered itself at start.</summary>
[GenerateSerializer, Immutable, Alias("OrleansLlm.SiloRecord")]
public sealed record SiloRecord(
    [property: Id(0)] string Name,
    [property: Id(1)] string Address,
    [property: Id(2)] int ProcessId,
    [property: Id(3)] DateTime StartedUtc);
