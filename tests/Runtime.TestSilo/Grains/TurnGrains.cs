namespace OrleansLlm.Runtime.TestSilo;

public interface ITurnGrain : IGrainWithStringKey
{
    Task<int> Work(int milliseconds);

    /// <summary>How many Work calls are inside the grain right now; interleaves with Work.</summary>
    [AlwaysInterleave]
    Task<int> Running();

    Task<int> MaxConcurrent();
}

/// <summary>Same contract, implemented by a [Reentrant] grain.</summary>
public interface IReentrantTurnGrain : ITurnGrainContract, IGrainWithStringKey;

public interface ITurnGrainContract
{
    Task<int> Work(int milliseconds);

    Task<int> Running();

    Task<int> MaxConcurrent();
}

internal sealed class TurnGrainProxy(GrainReference grain) : ITurnGrain, IReentrantTurnGrain
{
    public Task<int> Work(int milliseconds) => grain.InvokeAsync<int>(nameof(Work), [milliseconds]);

    public Task<int> Running() => grain.InvokeAsync<int>(nameof(Running), []);

    public Task<int> MaxConcurrent() => grain.InvokeAsync<int>(nameof(MaxConcurrent), []);
}

public class TurnGrain : Grain, ITurnGrain, IReentrantTurnGrain
{
    private int _running;
    private int _max;

    public async Task<int> Work(int milliseconds)
    {
        _running++;
        _max = Math.Max(_max, _running);
        await Task.Delay(milliseconds);
        _running--;
        return _max;
    }

    public Task<int> Running() => Task.FromResult(_running);

    public Task<int> MaxConcurrent() => Task.FromResult(_max);
}

[Reentrant]
public sealed class ReentrantTurnGrain : TurnGrain;
