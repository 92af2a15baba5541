using OrleansLlm.Native;

namespace OrleansLlm.Grains.PrefixIndex;

/// <summary>
/// Which engines hold which KV blocks, fed by the engines' KV events. An index, not a source of
/// truth: losing it costs cache hits only, and an engine that stops refreshing its liveness is
/// ignored (and its entries expire).
/// </summary>
public interface IPrefixIndex
{
    /// <summary>Per engine, how many leading blocks of <paramref name="hashes"/> (a prompt's chain) it holds.</summary>
    Task<IReadOnlyDictionary<string, int>> LookupAsync(IReadOnlyList<BlockHash> hashes, CancellationToken cancellationToken = default);

    Task StoreAsync(string engine, IReadOnlyList<BlockHash> hashes);

    Task RemoveAsync(string engine, IReadOnlyList<BlockHash> hashes);

    /// <summary>Forgets every entry of <paramref name="engine"/> (on its activation, unload, or AllBlocksCleared).</summary>
    Task ClearAsync(string engine);

    /// <summary>Marks <paramref name="engine"/> alive for <paramref name="ttl"/>; lookups skip engines that are not.</summary>
    Task HeartbeatAsync(string engine, TimeSpan ttl);
}
