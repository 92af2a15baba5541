using StackExchange.Redis;

namespace OrleansLlm.Runtime;

/// <summary>
/// One multiplexed Redis connection shared by a process's cluster store and grain storage. Every
/// command has a deadline: while Redis is unreachable, calls fail instead of hanging.
/// </summary>
public sealed class RedisConnection : IDisposable
{
    private readonly ConnectionMultiplexer _multiplexer;
    private readonly TimeSpan _commandTimeout;

    private RedisConnection(ConnectionMultiplexer multiplexer, TimeSpan commandTimeout)
    {
        _multiplexer = multiplexer;
        _commandTimeout = commandTimeout;
    }

    /// <summary>Connects to <paramref name="configuration"/> (e.g. <c>127.0.0.1:6379</c>); does not fail if Redis is down yet.</summary>
    public static RedisConnection Connect(string configuration, TimeSpan? commandTimeout = null)
    {
        var options = ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = false;
        options.ConnectTimeout = 2000;
        options.SyncTimeout = 5000;
        options.KeepAlive = 5;
        return new RedisConnection(ConnectionMultiplexer.Connect(options), commandTimeout ?? TimeSpan.FromSeconds(5));
    }

    internal static string KeyPrefix(string clusterId) => $"ollm:{clusterId}:";

    public bool IsConnected => _multiplexer.IsConnected;

    internal IDatabase Database => _multiplexer.GetDatabase();

    internal async Task<RedisResult> EvalAsync(string script, RedisKey[] keys, RedisValue[] values, CancellationToken cancellationToken)
    {
        try
        {
            return await Database.ScriptEvaluateAsync(script, keys, values).WaitAsync(_commandTimeout, cancellationToken);
        }
        catch (TimeoutException e)
        {
            throw new ClusterStoreUnavailableException($"Redis did not answer within {_commandTimeout.TotalSeconds:0.#} s", e);
        }
        catch (RedisConnectionException e)
        {
            throw new ClusterStoreUnavailableException($"Redis is unreachable: {e.Message}", e);
        }
        catch (RedisServerException e) when (e.Message.StartsWith("LOADING", StringComparison.Ordinal))
        {
            throw new ClusterStoreUnavailableException("Redis is loading its data set", e);
        }
    }

    public void Dispose() => _multiplexer.Dispose();
}
