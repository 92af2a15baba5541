using System.Runtime.CompilerServices;

namespace OrleansLlm.Runtime.Benchmarks;

/// <summary>The benchmark's grain; pinned, so the key decides whether a call is local or remote.</summary>
[PinnedPlacement]
public interface IBenchGrain : IGrainWithStringKey
{
    Task<int> Echo(int value);

    IAsyncEnumerable<int> Stream(int count, CancellationToken cancellationToken);
}

internal sealed class BenchGrainProxy(GrainReference grain) : IBenchGrain
{
    public Task<int> Echo(int value) => grain.InvokeAsync<int>(nameof(Echo), [value]);

    public IAsyncEnumerable<int> Stream(int count, CancellationToken cancellationToken) =>
        grain.StreamAsync<int>(nameof(Stream), [count], cancellationToken);
}

internal sealed class BenchGrain : Grain, IBenchGrain
{
    public Task<int> Echo(int value) => Task.FromResult(value);

    public async IAsyncEnumerable<int> Stream(int count, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        for (var i = 0; i < count; i++)
        {
            if ((i & 1023) == 0)
            {
                // a real producer awaits now and then; this also lets cancellation in
                await Task.Yield();
                cancellationToken.ThrowIfCancellationRequested();
            }
            yield return i;
        }
    }
}
