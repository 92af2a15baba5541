using System.Reflection;
using Orleans.Concurrency;
using Orleans.Runtime;
using OrleansLlm.Grains.Routing;
using OrleansLlm.Grains.Sessions;

namespace OrleansLlm.Grains.Tests;

/// <summary>
/// The router streams every session-less generation from one stateless worker per silo. Orleans
/// answers a MoveNext that reaches another activation than the one holding the enumerator with
/// EnumerationAbortedException, so the worker must be unique and never removed as idle between two
/// MoveNext calls (the container CI run of 2026-12-05 failed on exactly that).
/// </summary>
public sealed class RouterGrainPlacementTests
{
    [Fact]
    public void The_router_is_one_worker_per_silo_that_is_never_removed_as_idle()
    {
        var attribute = typeof(RouterGrain).GetCustomAttribute<StatelessWorkerAttribute>();
        Assert.NotNull(attribute);
        // the grain properties the silos read the placement back from
        var properties = new Dictionary<string, string>();
        attribute.PlacementStrategy.PopulateGrainProperties(null!, typeof(RouterGrain), GrainType.Create("router"), properties);
        Assert.Equal("1", properties["max-local-instances"]);
        Assert.Equal("False", properties["remove-idle-workers"]);
    }

    [Fact]
    public void An_aborted_enumeration_is_the_engines_failure_so_the_start_is_routed_again()
    {
        Assert.True(EngineCircuitBreakers.IsEngineFailure(new EnumerationAbortedException("the activation is gone")));
        Assert.False(EngineCircuitBreakers.IsEngineFailure(new InvalidTurnException("too long")));
    }
}
