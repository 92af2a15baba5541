using Orleans.Runtime;
using StackExchange.Redis;

namespace OrleansLlm.Cluster.TestSilo;

/// <summary>
/// An account of activations kept in Redis, outside Orleans: the set "oracle:{key}:active" holds
/// "{silo}#{activation}" for each live activation of a grain key. An activation that finds another
/// member already there counts a duplicate under "oracle:{key}:duplicates". The test harness
/// removes the members of a silo it killed (a SIGKILLed process never deactivates).
/// </summary>
public sealed class ActivationOracle(IConnectionMultiplexer redis, ILocalSiloDetails silo)
{
    public const string Prefix = "oracle:";

    public string SiloName => silo.Name;

    public static string ActiveKey(string grainKey) => $"{Prefix}{grainKey}:active";

    public static string DuplicatesKey(string grainKey) => $"{Prefix}{grainKey}:duplicates";

    public static string ActivationsKey(string grainKey) => $"{Prefix}{grainKey}:activations";

    public async Task<string> ActivatedAsync(string grainKey)
    {
        var member = $"{silo.Name}#{Guid.NewGuid():N}";
        var db = redis.GetDatabase();
        await db.SetAddAsync(ActiveKey(grainKey), member);
        await db.StringIncrementAsync(ActivationsKey(grainKey));
        var live = await db.SetLengthAsync(ActiveKey(grainKey));
        if (live > 1)
        {
            var members = await db.SetMembersAsync(ActiveKey(grainKey));
            await db.ListRightPushAsync(DuplicatesKey(grainKey), string.Join(",", members.Select(m => m.ToString())));
        }
        return member;
    }

    public Task DeactivatedAsync(string grainKey, string member) =>
        redis.GetDatabase().SetRemoveAsync(ActiveKey(grainKey), member);
}
