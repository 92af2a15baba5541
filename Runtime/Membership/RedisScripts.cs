namespace OrleansLlm.Runtime;

/// <summary>
/// Lua scripts that make each cluster-store operation one atomic step on the Redis server, timed
/// by the server's clock (TIME) so silo clocks never need to agree.
/// </summary>
internal static class RedisScripts
{
    private const string Now = "local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n";

    // KEYS: silo hash, silo set, origin. ARGV: id, name, address, capabilities json
    public const string Register = Now + """
        redis.call('SET', KEYS[3], now, 'NX')
        redis.call('HSET', KEYS[1], 'name', ARGV[2], 'address', ARGV[3], 'caps', ARGV[4], 'status', 'active', 'hb', now)
        redis.call('SADD', KEYS[2], ARGV[1])
        return now
        """;

    // KEYS: silo hash. ARGV: lease ms
    public const string Heartbeat = Now + """
        local h = redis.call('HMGET', KEYS[1], 'status', 'hb')
        if not h[1] then return 'unknown' end
        if h[1] == 'dead' then return 'dead' end
        if now - tonumber(h[2]) > tonumber(ARGV[1]) then
            redis.call('HSET', KEYS[1], 'status', 'dead')
            return 'dead'
        end
        redis.call('HSET', KEYS[1], 'hb', now)
        return 'ok'
        """;

    // KEYS: silo set. ARGV: key prefix, ms after which dead silos are forgotten
    // returns {now, id, name, address, caps, status, hb, id, ...}
    public const string ReadMembership = Now + """
        local out = { tostring(now) }
        for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
            local key = ARGV[1] .. 'silo:' .. id
            local h = redis.call('HMGET', key, 'name', 'address', 'caps', 'status', 'hb')
            if not h[1] then
                redis.call('SREM', KEYS[1], id)
            elseif h[4] == 'dead' and now - tonumber(h[5]) > tonumber(ARGV[2]) then
                redis.call('DEL', key)
                redis.call('SREM', KEYS[1], id)
            else
                table.insert(out, id)
                for i = 1, 5 do table.insert(out, h[i]) end
            end
        end
        return out
        """;

    // KEYS: silo hash. ARGV: death timeout ms
    public const string DeclareDead = Now + """
        local h = redis.call('HMGET', KEYS[1], 'status', 'hb')
        if not h[1] or h[1] == 'dead' then return 0 end
        if now - tonumber(h[2]) <= tonumber(ARGV[1]) then return 0 end
        redis.call('HSET', KEYS[1], 'status', 'dead')
        return 1
        """;

    // KEYS: silo hash. ARGV: status
    public const string SetStatus = """
        local s = redis.call('HGET', KEYS[1], 'status')
        if s and s ~= 'dead' then redis.call('HSET', KEYS[1], 'status', ARGV[1]) end
        return 0
        """;

    // KEYS: directory entry, origin. ARGV: silo id, lease ms, key prefix
    public const string Acquire = Now + """
        local lease = tonumber(ARGV[2])
        local origin = redis.call('GET', KEYS[2])
        if not origin or now - tonumber(origin) < lease then return { 'denied' } end
        local owner = redis.call('HGET', KEYS[1], 'silo')
        if owner and owner ~= '' and owner ~= ARGV[1] then
            local o = redis.call('HMGET', ARGV[3] .. 'silo:' .. owner, 'hb', 'address')
            if o[1] and now - tonumber(o[1]) <= lease then return { 'owned', owner, o[2] } end
        end
        local me = redis.call('HMGET', ARGV[3] .. 'silo:' .. ARGV[1], 'hb', 'status', 'address')
        if not me[1] or me[2] ~= 'active' or now - tonumber(me[1]) > lease then return { 'denied' } end
        local epoch = redis.call('HINCRBY', KEYS[1], 'epoch', 1)
        redis.call('HSET', KEYS[1], 'silo', ARGV[1])
        return { 'ok', tostring(epoch), me[3] }
        """;

    // KEYS: directory entry. ARGV: silo id, epoch
    public const string Release = """
        local d = redis.call('HMGET', KEYS[1], 'silo', 'epoch')
        if d[1] == ARGV[1] and d[2] == ARGV[2] then redis.call('HSET', KEYS[1], 'silo', '') end
        return 0
        """;

    // KEYS: state hash, directory entry. ARGV: silo id, epoch, expected etag ('' = none), data, lease ms, key prefix, 'w' | 'c'
    public const string WriteState = Now + """
        local d = redis.call('HMGET', KEYS[2], 'silo', 'epoch')
        if d[1] ~= ARGV[1] or d[2] ~= ARGV[2] then return { 'fenced' } end
        local hb = redis.call('HGET', ARGV[6] .. 'silo:' .. ARGV[1], 'hb')
        if not hb or now - tonumber(hb) > tonumber(ARGV[5]) then return { 'fenced' } end
        local current = redis.call('HGET', KEYS[1], 'etag') or ''
        if current ~= ARGV[3] then return { 'conflict', current } end
        if ARGV[7] == 'c' then
            redis.call('HDEL', KEYS[1], 'data', 'etag')
            return { 'ok', '' }
        end
        local version = redis.call('HINCRBY', KEYS[1], 'ver', 1)
        redis.call('HSET', KEYS[1], 'data', ARGV[4], 'etag', tostring(version))
        return { 'ok', tostring(version) }
        """;
}
