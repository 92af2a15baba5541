using System.Globalization;
using System.Text.Json;
using StackExchange.Redis;

namespace OrleansLlm.Runtime;

/// <summary>The cluster store on Redis: membership hashes, the grain directory and its leases (see <see cref="IClusterStore"/>).</summary>
public sealed class RedisClusterStore(RedisConnection redis, string clusterId, TimeSpan leaseDuration) : IClusterStore
{
    private static readonly TimeSpan s_forgetDeadAfter = TimeSpan.FromMinutes(10);

    private readonly string _prefix = RedisConnection.KeyPrefix(clusterId);

    public TimeSpan LeaseDuration { get; } = leaseDuration;

    private long LeaseMs => (long)LeaseDuration.TotalMilliseconds;

    public async Task RegisterAsync(SiloRecord silo, CancellationToken cancellationToken)
    {
        var capabilities = JsonSerializer.Serialize(new Dictionary<string, string>(silo.Capabilities), RuntimeJsonContext.Default.DictionaryStringString);
        await redis.EvalAsync(RedisScripts.Register,
            [SiloKey(silo.Id), _prefix + "silos", OriginKey],
            [silo.Id, silo.Name, silo.Address, capabilities], cancellationToken);
    }

    public async Task<HeartbeatStatus> HeartbeatAsync(string siloId, CancellationToken cancellationToken)
    {
        var result = (string?)await redis.EvalAsync(RedisScripts.Heartbeat, [SiloKey(siloId)], [LeaseMs], cancellationToken);
        return result switch
        {
            "ok" => HeartbeatStatus.Ok,
            "dead" => HeartbeatStatus.Dead,
            _ => HeartbeatStatus.Unknown,
        };
    }

    public async Task<MembershipSnapshot> ReadMembershipAsync(CancellationToken cancellationToken)
    {
        var result = (RedisResult[])(await redis.EvalAsync(RedisScripts.ReadMembership,
            [_prefix + "silos"], [_prefix, (long)s_forgetDeadAfter.TotalMilliseconds], cancellationToken))!;
        var now = long.Parse((string)result[0]!, CultureInfo.InvariantCulture);
        var silos = new List<SiloRecord>();
        for (var i = 1; i + 5 < result.Length; i += 6)
        {
            var capabilities = JsonSerializer.Deserialize((string)result[i + 3]!, RuntimeJsonContext.Default.DictionaryStringString) ?? [];
            var status = (string)result[i + 4]! switch
            {
                "active" => SiloStatus.Active,
                "shuttingdown" => SiloStatus.ShuttingDown,
                _ => SiloStatus.Dead,
            };
            silos.Add(new SiloRecord((string)result[i]!, (string)result[i + 1]!, (string)result[i + 2]!, capabilities, status,
                long.Parse((string)result[i + 5]!, CultureInfo.InvariantCulture)));
        }
        return new MembershipSnapshot(silos, now);
    }

    public async Task<bool> DeclareDeadAsync(string siloId, TimeSpan deathTimeout, CancellationToken cancellationToken) =>
        (long)(await redis.EvalAsync(RedisScripts.DeclareDead, [SiloKey(siloId)], [(long)deathTimeout.TotalMilliseconds], cancellationToken))! == 1;

    public Task SetStatusAsync(string siloId, SiloStatus status, CancellationToken cancellationToken) =>
        redis.EvalAsync(RedisScripts.SetStatus, [SiloKey(siloId)], [status.ToString().ToLowerInvariant()], cancellationToken);

    public async Task DeregisterAsync(string siloId, CancellationToken cancellationToken)
    {
        await redis.EvalAsync("redis.call('DEL', KEYS[1]) redis.call('SREM', KEYS[2], ARGV[1]) return 0",
            [SiloKey(siloId), _prefix + "silos"], [siloId], cancellationToken);
    }

    public async Task<AcquireResult> TryAcquireAsync(GrainId grainId, string siloId, CancellationToken cancellationToken)
    {
        var result = (RedisResult[])(await redis.EvalAsync(RedisScripts.Acquire,
            [DirectoryKey(_prefix, grainId), OriginKey], [siloId, LeaseMs, _prefix], cancellationToken))!;
        return (string?)result[0] switch
        {
            "ok" => new AcquireResult(AcquireStatus.Acquired, long.Parse((string)result[1]!, CultureInfo.InvariantCulture), siloId, (string?)result[2]),
            "owned" => new AcquireResult(AcquireStatus.OwnedElsewhere, 0, (string?)result[1], (string?)result[2]),
            _ => new AcquireResult(AcquireStatus.NotAllowed, 0, null, null),
        };
    }

    public Task ReleaseAsync(GrainId grainId, string siloId, long epoch, CancellationToken cancellationToken) =>
        redis.EvalAsync(RedisScripts.Release, [DirectoryKey(_prefix, grainId)], [siloId, epoch], cancellationToken);

    // when this Redis started holding cluster data; shared by all clusters, since losing it (a
    // restart without persistence) affects them all
    private const string OriginKey = "ollm:origin";

    internal static string DirectoryKey(string prefix, GrainId grainId) => $"{prefix}dir:{grainId}";

    private string SiloKey(string siloId) => $"{_prefix}silo:{siloId}";
}
