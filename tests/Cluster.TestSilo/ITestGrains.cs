namespace OrleansLlm.Cluster.TestSilo;

/// <summary>What a counter grain holds, and where it is active.</summary>
[GenerateSerializer, Immutable, Alias("OrleansLlm.Tests.CounterView")]
public sealed record CounterView([property: Id(0)] long Value, [property: Id(1)] string Silo);

/// <summary>A persisted counter (storage "sessions", ETag-checked) whose activations report to the oracle.</summary>
[Alias("OrleansLlm.Tests.ICounterGrain")]
public interface ICounterGrain : IGrainWithStringKey
{
    /// <summary>Adds one and persists it; returns the value written.</summary>
    [Alias("Increment")]
    Task<long> Increment();

    /// <summary>The value as persisted (read from storage first) and the silo the grain lives on.</summary>
    [Alias("Get")]
    Task<CounterView> Get();
}

/// <summary>A grain placed by the platform's device placement: key "silo/device".</summary>
[Alias("OrleansLlm.Tests.IPinnedGrain")]
public interface IPinnedGrain : IGrainWithStringKey
{
    /// <summary>The name of the silo the grain lives on.</summary>
    [Alias("WhereAmI")]
    Task<string> WhereAmI();
}

/// <summary>Streams integers back to the caller.</summary>
[Alias("OrleansLlm.Tests.IStreamingGrain")]
public interface IStreamingGrain : IGrainWithStringKey
{
    [Alias("Range")]
    IAsyncEnumerable<int> Range(int count, CancellationToken cancellationToken = default);
}
