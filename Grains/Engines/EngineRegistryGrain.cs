namespace OrleansLlm.Grains.Engines;

[GenerateSerializer, Alias("OrleansLlm.EngineRegistryState")]
public sealed class EngineRegistryState
{
    [Id(0)] public Dictionary<string, EngineStatus> Engines { get; set; } = [];
    [Id(1)] public Dictionary<string, SiloRecord> Silos { get; set; } = [];
}

/// <summary>
/// Every engine a silo has declared, persisted, so a router that starts late still knows the
/// engines that are unloaded (serverless) and publish nothing. Live load comes from the stream.
/// </summary>
public sealed class EngineRegistryGrain(
    [PersistentState("engine-registry", PlatformNames.SessionStorage)] IPersistentState<EngineRegistryState> state)
    : Grain, IEngineRegistryGrain
{
    public async Task Register(EngineStatus engine)
    {
        state.State.Engines[engine.EngineId] = engine;
        await state.WriteStateAsync();
    }

    public Task<EngineStatus[]> List() => Task.FromResult(state.State.Engines.Values.ToArray());

    public async Task RegisterSilo(SiloRecord silo)
    {
        state.State.Silos[silo.Name] = silo;
        await state.WriteStateAsync();
    }

    public Task<SiloRecord[]> ListSilos() => Task.FromResult(state.State.Silos.Values.ToArray());
}
