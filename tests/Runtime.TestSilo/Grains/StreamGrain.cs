using System.Runtime.CompilerServices;

namespace OrleansLlm.Runtime.TestSilo;

public interface IStreamGrain : IGrainWithStringKey
{
    IAsyncEnumerable<int> Range(int count, int delayMilliseconds, CancellationToken cancellationToken);

    Task<int> Produced();

    /// <summary>True once a Range call observed its cancellation token fire.</summary>
    Task<bool> SawCancellation();

    IAsyncEnumerable<int> FailAfter(int count);
}

internal sealed class StreamGrainProxy(GrainReference grain) : IStreamGrain
{
    public IAsyncEnumerable<int> Range(int count, int delayMilliseconds, CancellationToken cancellationToken) =>
        grain.StreamAsync<int>(nameof(Range), [count, delayMilliseconds], cancellationToken);

    public Task<int> Produced() => grain.InvokeAsync<int>(nameof(Produced), []);

    public Task<bool> SawCancellation() => grain.InvokeAsync<bool>(nameof(SawCancellation), []);

    public IAsyncEnumerable<int> FailAfter(int count) => grain.StreamAsync<int>(nameof(FailAfter), [count]);
}

[Reentrant]
public sealed class StreamGrain : Grain, IStreamGrain
{
    private int _produced;
    private bool _sawCancellation;

    public async IAsyncEnumerable<int> Range(int count, int delayMilliseconds, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var registration = cancellationToken.Register(() => _sawCancellation = true);
        for (var i = 0; i < count; i++)
        {
            if (delayMilliseconds > 0)
            {
                await Task.Delay(delayMilliseconds, cancellationToken);
            }
            _produced++;
            yield return i;
        }
    }

    public Task<int> Produced() => Task.FromResult(_produced);

    public Task<bool> SawCancellation() => Task.FromResult(_sawCancellation);

    public async IAsyncEnumerable<int> FailAfter(int count)
    {
        for (var i = 0; i < count; i++)
        {
            await Task.Yield();
            yield return i;
        }
        throw new ArgumentOutOfRangeException(nameof(count), "stream failed on purpose");
    }
}
