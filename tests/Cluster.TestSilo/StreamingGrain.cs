using System.Runtime.CompilerServices;

namespace OrleansLlm.Cluster.TestSilo;

public sealed class StreamingGrain : Grain, IStreamingGrain
{
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
