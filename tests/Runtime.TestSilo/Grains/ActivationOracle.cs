using System.Collections.Concurrent;
using StackExchange.Redis;

namespace OrleansLlm.Runtime.TestSilo;

/// <summary>
/// An observer independent of the runtime's directory: each activation takes a new generation
/// number for its grain; a turn run by an activation whose generation is no longer the newest
/// means two activations of the grain served calls in overlapping lifetimes (a duplicate).
/// </summary>
public interface IActivationOracle
{
    Task<long> ActivatedAsync(string key);

    Task CheckTurnAsync(string key, long generation);

    Task<long> ActivationsAsync(string key);

    Task<long> DuplicatesAsync();
}

public sealed class InMemoryActivationOracle : IActivationOracle
{
    private readonly ConcurrentDictionary<string, long> _generations = new();
    private long _duplicates;

    public Task<long> ActivatedAsync(string key) => Task.FromResult(_generations.AddOrUpdate(key, 1, (_, g) => g + 1));

    public Task CheckTurnAsync(string key, long generation)
    {
        if (_generations.GetValueOrDefault(key) != generation)
        {
            Interlocked.Increment(ref _duplicates);
        }
        return Task.CompletedTask;
    }

    public Task<long> ActivationsAsync(string key) => Task.FromResult(_generations.GetValueOrDefault(key));

    public Task<long> DuplicatesAsync() => Task.FromResult(Interlocked.Read(ref _duplicates));
}

public sealed class RedisActivationOracle(IDatabase redis, string prefix) : IActivationOracle
{
    public async Task<long> ActivatedAsync(string key) => await redis.StringIncrementAsync($"{prefix}gen:{key}");

    public Task CheckTurnAsync(string key, long generation) =>
        redis.ScriptEvaluateAsync("if redis.call('GET', KEYS[1]) ~= ARGV[1] then redis.call('INCR', KEYS[2]) end return 0",
            [$"{prefix}gen:{key}", $"{prefix}duplicates"], [generation.ToString(System.Globalization.CultureInfo.InvariantCulture)]);

    public async Task<long> ActivationsAsync(string key) => (long?)await redis.StringGetAsync($"{prefix}gen:{key}") ?? 0;

    public async Task<long> DuplicatesAsync() => (long?)await redis.StringGetAsync($"{prefix}duplicates") ?? 0;
}
