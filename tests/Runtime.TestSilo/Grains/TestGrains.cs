using System.Text.Json.Serialization;

namespace OrleansLlm.Runtime.TestSilo;

[JsonSerializable(typeof(CounterState))]
internal sealed partial class TestGrainsJsonContext : JsonSerializerContext;

/// <summary>The registry every test silo and client uses.</summary>
public static class TestGrains
{
    public static GrainRegistry Registry(IActivationOracle oracle) => new GrainRegistry()
        .AddJsonContext(TestGrainsJsonContext.Default)
        .AddInterface<ICounterGrain>(r => new CounterGrainProxy(r))
        .AddGrain<ICounterGrain, CounterGrain>(ctx => new CounterGrain(ctx.GetPersistentState<CounterState>("counter"), oracle))
        .AddInterface<ITurnGrain>(r => new TurnGrainProxy(r))
        .AddGrain<ITurnGrain, TurnGrain>(_ => new TurnGrain())
        .AddInterface<IReentrantTurnGrain>(r => new TurnGrainProxy(r))
        .AddGrain<IReentrantTurnGrain, ReentrantTurnGrain>(_ => new ReentrantTurnGrain())
        .AddInterface<IStreamGrain>(r => new StreamGrainProxy(r))
        .AddGrain<IStreamGrain, StreamGrain>(_ => new StreamGrain())
        .AddInterface<IPinnedGrain>(r => new HostSiloProxy(r))
        .AddGrain<IPinnedGrain, HostSiloGrain>(_ => new HostSiloGrain())
        .AddInterface<IDirectedGrain>(r => new HostSiloProxy(r), new LastSiloPlacement())
        .AddGrain<IDirectedGrain, HostSiloGrain>(_ => new HostSiloGrain())
        .AddInterface<ILocalFirstGrain>(r => new HostSiloProxy(r), new CallerSiloPlacement())
        .AddGrain<ILocalFirstGrain, HostSiloGrain>(_ => new HostSiloGrain());
}
