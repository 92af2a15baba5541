using OrleansLlm.Native;

namespace OrleansLlm.Grains.PrefixIndex;

/// <summary>The prefix index of the one-process mode (every engine in this process).</summary>
public sealed class InMemoryPrefixIndex(TimeProvider time) : IPrefixIndex
{
    private readonly Lock _lock = new();
    private readonly Dictionary<BlockHash, HashSet<string>> _engines = [];
    private readonly Dictionary<string, HashSet<BlockHash>> _blocks = [];
    private readonly Dictionary<string, DateTimeOffset> _aliveUntil = [];

    public Task<IReadOnlyDictionary<string, int>> LookupAsync(IReadOnlyList<BlockHash> hashes, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        var result = new Dictionary<string, int>();
        lock (_lock)
        {
            HashSet<string>? running = null;
            for (var i = 0; i < hashes.Count; i++)
            {
                if (!_engines.TryGetValue(hashes[i], out var holders))
                {
                    break;
                }
                running = running is null ? [.. holders] : [.. running.Intersect(holders)];
                running.RemoveWhere(e => !_aliveUntil.TryGetValue(e, out var until) || until < now);
                if (running.Count == 0)
                {
                    break;
                }
                foreach (var e in running)
                {
                    result[e] = i + 1;
                }
            }
        }
        return Task.FromResult<IReadOnlyDictionary<string, int>>(result);
    }

    public Task StoreAsync(string engine, IReadOnlyList<BlockHash> hashes)
    {
        lock (_lock)
        {
            var mine = Blocks(engine);
            foreach (var h in hashes)
            {
                if (!_engines.TryGetValue(h, out var holders))
                {
                    _engines[h] = holders = [];
                }
                holders.Add(engine);
                mine.Add(h);
            }
        }
        return Task.CompletedTask;
    }

    public Task RemoveAsync(string engine, IReadOnlyList<BlockHash> hashes)
    {
        lock (_lock)
        {
            var mine = Blocks(engine);
            foreach (var h in hashes)
            {
                Forget(engine, h);
                mine.Remove(h);
            }
        }
        return Task.CompletedTask;
    }

    public Task ClearAsync(string engine)
    {
        lock (_lock)
        {
            foreach (var h in Blocks(engine))
            {
                Forget(engine, h);
            }
            _blocks.Remove(engine);
        }
        return Task.CompletedTask;
    }

    public Task HeartbeatAsync(string engine, TimeSpan ttl)
    {
        lock (_lock)
        {
            _aliveUntil[engine] = time.GetUtcNow() + ttl;
        }
        return Task.CompletedTask;
    }

    private HashSet<BlockHash> Blocks(string engine)
    {
        if (!_blocks.TryGetValue(engine, out var set))
        {
            _blocks[engine] = set = [];
        }
        return set;
    }

    private void Forget(string engine, BlockHash hash)
    {
        if (_engines.TryGetValue(hash, out var holders) && holders.Remove(engine) && holders.Count == 0)
        {
            _engines.Remove(hash);
        }
    }
}
