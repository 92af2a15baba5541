namespace OrleansLlm.Cli.ClusterBench;

/// <summary>Latencies of a batch of grain calls, measured where the calls were made.</summary>
[GenerateSerializer, Immutable, Alias("OrleansLlm.Bench.CallSample")]
public sealed record CallSample([property: Id(0)] double ElapsedSeconds, [property: Id(1)] double[] LatenciesMicroseconds);

/// <summary>Items of one streamed call and how long they took to arrive.</summary>
[GenerateSerializer, Immutable, Alias("OrleansLlm.Bench.StreamSample")]
public sealed record StreamSample([property: Id(0)] double ElapsedSeconds, [property: Id(1)] int Items);

/// <summary>The callee: answers at once, or streams integers. Key "silo/name" (device placement).</summary>
[Alias("OrleansLlm.Bench.ITargetGrain")]
public interface IBenchTargetGrain : IGrainWithStringKey
{
    [Alias("Ping")]
    Task<int> Ping(int value);

    [Alias("Range")]
    IAsyncEnumerable<int> Range(int count, CancellationToken cancellationToken = default);
}

/// <summary>The caller: a grain that calls targets on a named silo and times each call.</summary>
[Alias("OrleansLlm.Bench.ICallerGrain")]
public interface IBenchCallerGrain : IGrainWithStringKey
{
    /// <summary><paramref name="calls"/> calls spread over <paramref name="concurrency"/> loops, each on its own target grain.</summary>
    [Alias("Call")]
    Task<CallSample> Call(string targetSilo, int calls, int concurrency);

    [Alias("Stream")]
    Task<StreamSample> Stream(string targetSilo, int items);
}
