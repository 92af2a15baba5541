using OrleansLlm.Grains.Routing;

namespace OrleansLlm.Grains.Tests;

public sealed class EngineCircuitBreakersTests
{
    [Fact]
    public async Task Repeated_engine_failures_open_the_circuit_and_then_nothing_reaches_the_engine()
    {
        var breakers = new EngineCircuitBreakers();
        for (var i = 0; i < 3; i++)
        {
            await Assert.ThrowsAsync<EngineUnavailableException>(() =>
                breakers.StartAsync<bool>("s/cpu0", _ => throw new EngineUnavailableException("silo gone"), default).AsTask());
        }
        Assert.False(breakers.IsAvailable("s/cpu0"));
        Assert.True(breakers.IsAvailable("s/cpu1"));

        var called = false;
        var e = await Assert.ThrowsAsync<EngineUnavailableException>(() =>
            breakers.StartAsync("s/cpu0", _ => { called = true; return ValueTask.FromResult(true); }, default).AsTask());
        Assert.False(called);
        Assert.Contains("skipped", e.Message);
    }

    [Fact]
    public async Task Client_errors_are_not_the_engines_failures()
    {
        var breakers = new EngineCircuitBreakers();
        for (var i = 0; i < 5; i++)
        {
            await Assert.ThrowsAsync<InvalidTurnException>(() =>
                breakers.StartAsync<bool>("s/cpu0", _ => throw new InvalidTurnException("too long"), default).AsTask());
        }
        Assert.True(breakers.IsAvailable("s/cpu0"));
        Assert.True(await breakers.StartAsync("s/cpu0", _ => ValueTask.FromResult(true), default));
    }
}
