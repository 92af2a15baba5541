using OrleansLlm.Native;
using StackExchange.Redis;

namespace OrleansLlm.Grains.PrefixIndex;

/// <summary>
/// The prefix index in Redis. Keys (under <c>prefix</c>): <c>b:{hash}</c> a set of engines holding
/// the block, <c>e:{engine}</c> the set of the engine's blocks (to clear it), <c>alive:{engine}</c>
/// a liveness key with a TTL. Block entries expire after <c>entryTtl</c> unless stored again, so a
/// dead engine's entries go away by themselves; lookups ignore engines that are not alive at once.
/// </summary>
public sealed class RedisPrefixIndex(IConnectionMultiplexer redis, string prefix = "orleansllm:pfx:", TimeSpan? entryTtl = null) : IPrefixIndex
{
    // KEYS: the chain's block keys in order; ARGV[1]: the liveness key prefix.
    // Returns engine, leading blocks, engine, leading blocks, ...
    private const string LookupScript = """
        local held = {}
        local running = nil
        for i, key in ipairs(KEYS) do
          local members = redis.call('SMEMBERS', key)
          local nextRunning = {}
          local any = false
          for _, e in ipairs(members) do
            if running == nil or running[e] then
              nextRunning[e] = true
              any = true
            end
          end
          if not any then break end
          running = nextRunning
          for e, _ in pairs(running) do held[e] = i end
        end
        local out = {}
        for e, n in pairs(held) do
          if redis.call('EXISTS', ARGV[1] .. e) == 1 then
            table.insert(out, e)
            table.insert(out, n)
          end
        end
        return out
        """;

    private readonly TimeSpan _entryTtl = entryTtl ?? TimeSpan.FromHours(1);

    public async Task<IReadOnlyDictionary<string, int>> LookupAsync(IReadOnlyList<BlockHash> hashes, CancellationToken cancellationToken = default)
    {
        var result = new Dictionary<string, int>();
        if (hashes.Count == 0)
        {
            return result;
        }
        var keys = hashes.Select(h => (RedisKey)BlockKey(h)).ToArray();
        var reply = (RedisResult[]?)await redis.GetDatabase().ScriptEvaluateAsync(LookupScript, keys, [prefix + "alive:"]).ConfigureAwait(false);
        for (var i = 0; reply is not null && i + 1 < reply.Length; i += 2)
        {
            result[(string)reply[i]!] = (int)reply[i + 1];
        }
        return result;
    }

    public async Task StoreAsync(string engine, IReadOnlyList<BlockHash> hashes)
    {
        if (hashes.Count == 0)
        {
            return;
        }
        var batch = redis.GetDatabase().CreateBatch();
        var tasks = new List<Task>(hashes.Count * 2 + 2);
        foreach (var h in hashes)
        {
            tasks.Add(batch.SetAddAsync(BlockKey(h), engine));
            tasks.Add(batch.KeyExpireAsync(BlockKey(h), _entryTtl));
        }
        tasks.Add(batch.SetAddAsync(EngineKey(engine), hashes.Select(h => (RedisValue)h.ToString()).ToArray()));
        tasks.Add(batch.KeyExpireAsync(EngineKey(engine), _entryTtl));
        batch.Execute();
        await Task.WhenAll(tasks).ConfigureAwait(false);
    }

    public async Task RemoveAsync(string engine, IReadOnlyList<BlockHash> hashes)
    {
        if (hashes.Count == 0)
        {
            return;
        }
        var batch = redis.GetDatabase().CreateBatch();
        var tasks = hashes.Select(h => (Task)batch.SetRemoveAsync(BlockKey(h), engine)).ToList();
        tasks.Add(batch.SetRemoveAsync(EngineKey(engine), hashes.Select(h => (RedisValue)h.ToString()).ToArray()));
        batch.Execute();
        await Task.WhenAll(tasks).ConfigureAwait(false);
    }

    public async Task ClearAsync(string engine)
    {
        var db = redis.GetDatabase();
        var blocks = await db.SetMembersAsync(EngineKey(engine)).ConfigureAwait(false);
        var batch = db.CreateBatch();
        var tasks = blocks.Select(h => (Task)batch.SetRemoveAsync(prefix + "b:" + h, engine)).ToList();
        tasks.Add(batch.KeyDeleteAsync(EngineKey(engine)));
        batch.Execute();
        await Task.WhenAll(tasks).ConfigureAwait(false);
    }

    public Task HeartbeatAsync(string engine, TimeSpan ttl) =>
        redis.GetDatabase().StringSetAsync(prefix + "alive:" + engine, 1, ttl);

    private string BlockKey(BlockHash hash) => prefix + "b:" + hash;

    private string EngineKey(string engine) => prefix + "e:" + engine;
}
