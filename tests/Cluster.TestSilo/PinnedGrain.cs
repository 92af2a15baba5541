using OrleansLlm.Grains.Engines;
using StackExchange.Redis;

namespace OrleansLlm.Cluster.TestSilo;

/// <summary>Engine-like: placed by <see cref="DevicePlacementAttribute"/>; records each activation's silo in "oracle:{key}:silos".</summary>
[DevicePlacement]
public sealed class PinnedGrain(ActivationOracle oracle, IConnectionMultiplexer redis) : Grain, IPinnedGrain
{
    public static string SilosKey(string grainKey) => $"{ActivationOracle.Prefix}{grainKey}:silos";

    public override Task OnActivateAsync(CancellationToken cancellationToken) =>
        redis.GetDatabase().SetAddAsync(SilosKey(this.GetPrimaryKeyString()), oracle.SiloName);

    public Task<string> WhereAmI() => Task.FromResult(oracle.SiloName);
}
