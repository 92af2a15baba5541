namespace OrleansLlm.Native;

/// <summary>What the engine's KV cache reports to the prefix index (vLLM's KV events).</summary>
public abstract record KvCacheEvent;

/// <summary>Blocks now cached and findable by hash: a chain in order; <paramref name="Parent"/> is the block before the first (null for block 0).</summary>
public sealed record BlocksStored(IReadOnlyList<BlockHash> Hashes, BlockHash? Parent) : KvCacheEvent;

/// <summary>Blocks evicted from the cache.</summary>
public sealed record BlocksRemoved(IReadOnlyList<BlockHash> Hashes) : KvCacheEvent;

/// <summary>Every cached block forgotten.</summary>
public sealed record AllBlocksCleared : KvCacheEvent;
