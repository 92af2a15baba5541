using Microsoft.Extensions.Options;
using Orleans.Runtime;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace OrleansLlm.Gateway;

/// <summary>
/// Resilience around unary grain calls (sessions, tokenize, admin): a timeout, and a retry only of
/// what provably did not execute — a message the cluster rejected before delivery. A generation is
/// never retried by the gateway: its tokens may already have reached the client.
/// </summary>
public sealed class GrainCallPipeline(IOptions<GatewayOptions> options)
{
    private readonly ResiliencePipeline _pipeline = new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<OrleansMessageRejectionException>(),
            MaxRetryAttempts = 3,
            Delay = TimeSpan.FromMilliseconds(200),
            BackoffType = DelayBackoffType.Exponential,
        })
        .AddTimeout(new TimeoutStrategyOptions { Timeout = TimeSpan.FromSeconds(options.Value.GrainCallTimeoutSeconds) })
        .Build();

    public async Task<T> RunAsync<T>(Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await _pipeline.ExecuteAsync(async ct => await call(ct), cancellationToken);
        }
        catch (TimeoutRejectedException e)
        {
            throw new TimeoutException($"the cluster did not answer within {options.Value.GrainCallTimeoutSeconds} s", e);
        }
    }
}
