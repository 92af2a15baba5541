using Orleans.GrainDirectory;
using OrleansLlm.Grains;

namespace OrleansLlm.Cluster.TestSilo;

[GenerateSerializer, Alias("OrleansLlm.Tests.CounterState")]
public sealed class CounterState
{
    [Id(0)] public long Value { get; set; }
}

/// <summary>Lives in the sessions' grain directory and storage, as a session grain does.</summary>
[GrainDirectory(PlatformNames.SessionDirectory)]
public sealed class CounterGrain(
    [PersistentState("counter", PlatformNames.SessionStorage)] IPersistentState<CounterState> state,
    ActivationOracle oracle)
    : Grain, ICounterGrain
{
    private string? _oracleMember;

    public override async Task OnActivateAsync(CancellationToken cancellationToken) =>
        _oracleMember = await oracle.ActivatedAsync(this.GetPrimaryKeyString());

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_oracleMember is not null)
        {
            await oracle.DeactivatedAsync(this.GetPrimaryKeyString(), _oracleMember);
        }
    }

    public async Task<long> Increment()
    {
        state.State.Value++;
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            // the write may or may not have landed: start again from storage
            state.State.Value--;
            DeactivateOnIdle();
            throw;
        }
        return state.State.Value;
    }

    public async Task<CounterView> Get()
    {
        await state.ReadStateAsync();
        return new CounterView(state.State.Value, oracle.SiloName);
    }
}
