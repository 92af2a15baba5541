using System.Collections.Concurrent;
using Orleans.Runtime;
using Orleans.Runtime.Messaging;
using Polly;
using Polly.CircuitBreaker;

namespace OrleansLlm.Grains.Routing;

/// <summary>
/// A Polly circuit breaker per engine, around the start of each generation (reaching the engine,
/// activating it, loading its model, the first token). An engine that keeps failing there — its
/// silo dead, its model not loading — is skipped by routing for <see cref="BreakDuration"/>, then
/// tried again. Client errors (context too long, bad parameters) are not the engine's failures.
/// </summary>
public sealed class EngineCircuitBreakers
{
    public static readonly TimeSpan BreakDuration = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, (ResiliencePipeline Pipeline, CircuitBreakerStateProvider State)> _engines = new();

    /// <summary>False while the engine's circuit is open (it failed too often just now).</summary>
    public bool IsAvailable(string engine) =>
        !_engines.TryGetValue(engine, out var breaker) || breaker.State.CircuitState is CircuitState.Closed or CircuitState.HalfOpen;

    /// <summary>
    /// Runs <paramref name="start"/> through the engine's breaker. An open circuit throws
    /// <see cref="EngineUnavailableException"/>: nothing was sent to the engine.
    /// </summary>
    public async ValueTask<T> StartAsync<T>(string engine, Func<CancellationToken, ValueTask<T>> start, CancellationToken cancellationToken)
    {
        var breaker = _engines.GetOrAdd(engine, _ => Create());
        try
        {
            return await breaker.Pipeline.ExecuteAsync(start, cancellationToken);
        }
        catch (BrokenCircuitException e)
        {
            throw new EngineUnavailableException($"engine '{engine}' failed repeatedly and is skipped for {BreakDuration.TotalSeconds:F0} s ({e.Message})");
        }
    }

    private static (ResiliencePipeline, CircuitBreakerStateProvider) Create()
    {
        var state = new CircuitBreakerStateProvider();
        var pipeline = new ResiliencePipelineBuilder()
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(IsEngineFailure),
                FailureRatio = 0.5,
                MinimumThroughput = 3,
                SamplingDuration = TimeSpan.FromSeconds(30),
                BreakDuration = BreakDuration,
                StateProvider = state,
            })
            .Build();
        return (pipeline, state);
    }

    /// <summary>
    /// Whether <paramref name="e"/> is the engine's failure (its silo, its activation), not the
    /// client's. An aborted enumeration means the engine's activation that held the request is gone.
    /// </summary>
    public static bool IsEngineFailure(Exception e) => e is EngineUnavailableException or SiloUnavailableException
        or OrleansMessageRejectionException or ConnectionFailedException or TimeoutException or EnumerationAbortedException;
}
