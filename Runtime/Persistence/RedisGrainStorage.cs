using StackExchange.Redis;

namespace OrleansLlm.Runtime;

/// <summary>
/// Grain state in Redis hashes (<c>data</c>, <c>etag</c>). A write succeeds only if the ETag matches
/// and the writer's activation still holds the grain's directory entry under a live lease, both
/// checked in one Lua step, so a superseded activation can never overwrite a newer one.
/// </summary>
public sealed class RedisGrainStorage(RedisConnection redis, string clusterId, TimeSpan leaseDuration) : IGrainStorage
{
    private readonly string _prefix = RedisConnection.KeyPrefix(clusterId);

    public async Task<StoredState?> ReadAsync(GrainId grainId, string stateName, CancellationToken cancellationToken)
    {
        var result = (RedisResult[])(await redis.EvalAsync("return redis.call('HMGET', KEYS[1], 'data', 'etag')",
            [StateKey(grainId, stateName)], [], cancellationToken))!;
        var etag = (string?)result[1];
        return etag is null ? null : new StoredState((byte[])result[0]!, etag);
    }

    public Task<string> WriteAsync(GrainId grainId, string stateName, byte[] data, string? expectedEtag, ActivationFence fence, CancellationToken cancellationToken) =>
        WriteCoreAsync(grainId, stateName, data, expectedEtag, fence, "w", cancellationToken);

    public Task ClearAsync(GrainId grainId, string stateName, string? expectedEtag, ActivationFence fence, CancellationToken cancellationToken) =>
        WriteCoreAsync(grainId, stateName, [], expectedEtag, fence, "c", cancellationToken);

    private async Task<string> WriteCoreAsync(GrainId grainId, string stateName, byte[] data, string? expectedEtag, ActivationFence fence, string operation, CancellationToken cancellationToken)
    {
        var result = (RedisResult[])(await redis.EvalAsync(RedisScripts.WriteState,
            [StateKey(grainId, stateName), RedisClusterStore.DirectoryKey(_prefix, grainId)],
            [fence.SiloId, fence.Epoch, expectedEtag ?? "", data, (long)leaseDuration.TotalMilliseconds, _prefix, operation],
            cancellationToken))!;
        return (string?)result[0] switch
        {
            "ok" => (string)result[1]!,
            "conflict" => throw new InconsistentStateException(grainId, stateName, expectedEtag, (string?)result[1] is { Length: > 0 } current ? current : null),
            _ => throw new ActivationFencedException(grainId, fence),
        };
    }

    private string StateKey(GrainId grainId, string stateName) => $"{_prefix}state:{grainId}:{stateName}";
}
