namespace OrleansLlm.Runtime.TestSilo;

public interface ICounterGrain : IGrainWithStringKey
{
    /// <summary>Increments the persisted counter; returns the value once it is stored.</summary>
    Task<int> Increment();

    Task<int> Get();

    Task<string> HostSilo();

    Task Fail(string message);

    Task<int> Sleep(int milliseconds, CancellationToken cancellationToken);
}

public sealed class CounterState
{
    public int Value { get; set; }
}

internal sealed class CounterGrainProxy(GrainReference grain) : ICounterGrain
{
    public Task<int> Increment() => grain.InvokeAsync<int>(nameof(Increment), []);

    public Task<int> Get() => grain.InvokeAsync<int>(nameof(Get), []);

    public Task<string> HostSilo() => grain.InvokeAsync<string>(nameof(HostSilo), []);

    public Task Fail(string message) => grain.InvokeAsync(nameof(Fail), [message]);

    public Task<int> Sleep(int milliseconds, CancellationToken cancellationToken) =>
        grain.InvokeAsync<int>(nameof(Sleep), [milliseconds], cancellationToken);
}

/// <summary>A persisted counter that reports every activation and every turn to the <see cref="IActivationOracle"/>.</summary>
public sealed class CounterGrain(IPersistentState<CounterState> counter, IActivationOracle oracle) : Grain, ICounterGrain
{
    private long _generation;

    public override async Task OnActivateAsync(CancellationToken cancellationToken) =>
        _generation = await oracle.ActivatedAsync(GetPrimaryKeyString());

    public async Task<int> Increment()
    {
        await oracle.CheckTurnAsync(GetPrimaryKeyString(), _generation);
        counter.State.Value++;
        try
        {
            await counter.WriteStateAsync();
        }
        catch
        {
            // the stored value is the truth: this activation's copy is stale now
            counter.State.Value--;
            DeactivateOnIdle();
            throw;
        }
        return counter.State.Value;
    }

    public async Task<int> Get()
    {
        await oracle.CheckTurnAsync(GetPrimaryKeyString(), _generation);
        return counter.State.Value;
    }

    public Task<string> HostSilo() => Task.FromResult(Context.SiloName);

    public Task Fail(string message) => throw new InvalidOperationException(message);

    public async Task<int> Sleep(int milliseconds, CancellationToken cancellationToken)
    {
        await Task.Delay(milliseconds, cancellationToken);
        return milliseconds;
    }
}
