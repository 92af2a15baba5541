using System.Runtime.CompilerServices;
using OrleansLlm.Grains.Engines;

namespace OrleansLlm.Cli.ClusterBench;

[DevicePlacement]
internal sealed class BenchTargetGrain : Grain, IBenchTargetGrain
{
    public Task<int> Ping(int value) => Task.FromResult(value + 1);

    public async IAsyncEnumerable<int> Range(int count, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        for (var i = 0; i < count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return i;
        }
        await Task.CompletedTask;
    }
}
