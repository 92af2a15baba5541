using System.Diagnostics;
using OrleansLlm.Runtime.TestSilo;

namespace OrleansLlm.Runtime.Tests;

/// <summary>The runtime in one process with the in-memory store (embedded mode): calls, turns, streams, state.</summary>
public sealed class EmbeddedSiloTests : IAsyncLifetime
{
    private readonly InMemoryActivationOracle _oracle = new();
    private Silo _silo = null!;

    private IGrainFactory Grains => _silo.GrainFactory;

    public async Task InitializeAsync()
    {
        _silo = new Silo(new SiloOptions { Name = "solo", EnableTransport = false, CollectionAge = TimeSpan.FromMilliseconds(400) },
            new ClusterOptions { ClusterId = "embedded", HeartbeatPeriod = TimeSpan.FromMilliseconds(200), CallTimeout = TimeSpan.FromSeconds(2) },
            TestGrains.Registry(_oracle), ClusterBackend.InMemory(TimeSpan.FromSeconds(3)));
        await _silo.StartAsync();
    }

    public async Task DisposeAsync() => await _silo.DisposeAsync();

    [Fact]
    public async Task Calls_return_results_and_persist_state()
    {
        var counter = Grains.GetGrain<ICounterGrain>("a");
        Assert.Equal(1, await counter.Increment());
        Assert.Equal(2, await counter.Increment());
        Assert.Equal(2, await counter.Get());
        Assert.Equal("solo", await counter.HostSilo());
        Assert.Equal(0, await Grains.GetGrain<ICounterGrain>("b").Get());
    }

    [Fact]
    public async Task Exceptions_reach_the_caller_with_type_and_message()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => Grains.GetGrain<ICounterGrain>("x").Fail("boom"));
        Assert.Equal("boom", error.Message);
        // the activation survives its exception
        Assert.Equal(1, await Grains.GetGrain<ICounterGrain>("x").Increment());
    }

    [Fact]
    public async Task A_call_past_its_timeout_fails_with_a_timeout_error_and_the_callee_is_cancelled()
    {
        var watch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<GrainCallTimeoutException>(() => Grains.GetGrain<ICounterGrain>("slow").Sleep(10_000, default));
        Assert.Contains("Sleep", error.Message);
        Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(6));
    }

    [Fact]
    public async Task Caller_cancellation_reaches_the_callee()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Grains.GetGrain<ICounterGrain>("c").Sleep(10_000, cts.Token));
    }

    [Fact]
    public async Task Non_reentrant_grain_runs_one_call_at_a_time_but_always_interleave_methods_pass()
    {
        var grain = Grains.GetGrain<ITurnGrain>("t");
        var watch = Stopwatch.StartNew();
        var work = Enumerable.Range(0, 4).Select(_ => grain.Work(150)).ToArray();
        var all = Task.WhenAll(work);
        // Running() interleaves: it answers while Work calls hold the grain (were it queued, it would see 0 after all of them)
        var runningDuringWork = 0;
        for (var attempt = 0; attempt < 20 && runningDuringWork == 0; attempt++)
        {
            runningDuringWork = await grain.Running();
            if (runningDuringWork == 0)
            {
                await Task.Delay(25);
            }
        }
        Assert.False(all.IsCompleted);
        await all;
        Assert.Equal(1, runningDuringWork);
        Assert.Equal(1, await grain.MaxConcurrent());
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(550), $"4 x 150 ms calls finished in {watch.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task Reentrant_grain_interleaves_calls()
    {
        var grain = Grains.GetGrain<IReentrantTurnGrain>("r");
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => grain.Work(200)));
        Assert.Equal(4, await grain.MaxConcurrent());
    }

    [Fact]
    public async Task Streams_deliver_items_in_order_and_errors_at_the_end()
    {
        var grain = Grains.GetGrain<IStreamGrain>("s");
        var items = new List<int>();
        await foreach (var item in grain.Range(100, 0, default))
        {
            items.Add(item);
        }
        Assert.Equal(Enumerable.Range(0, 100), items);
        var received = new List<int>();
        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () =>
        {
            await foreach (var item in grain.FailAfter(3))
            {
                received.Add(item);
            }
        });
        Assert.Equal([0, 1, 2], received);
        Assert.Contains("on purpose", error.Message);
    }

    [Fact]
    public async Task Abandoning_a_stream_cancels_the_callee()
    {
        var grain = Grains.GetGrain<IStreamGrain>("cancel");
        using var cts = new CancellationTokenSource();
        var count = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var item in grain.Range(1000, 20, cts.Token))
            {
                if (++count == 3)
                {
                    await cts.CancelAsync();
                }
            }
        });
        Assert.True(await grain.SawCancellation());
        var produced = await grain.Produced();
        await Task.Delay(300);
        Assert.Equal(produced, await grain.Produced());
    }

    [Fact]
    public async Task Idle_activations_are_deactivated_and_come_back_with_their_state()
    {
        var counter = Grains.GetGrain<ICounterGrain>("idle");
        Assert.Equal(1, await counter.Increment());
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (await _oracle.ActivationsAsync("idle") == 1 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
            if (_silo.ActivationCount == 0)
            {
                break;
            }
        }
        Assert.Equal(0, _silo.ActivationCount);
        Assert.Equal(2, await counter.Increment());
        Assert.Equal(2, await _oracle.ActivationsAsync("idle"));
        Assert.Equal(0, await _oracle.DuplicatesAsync());
    }

    [Fact]
    public async Task Unregistered_interfaces_and_bad_arguments_fail_clearly()
    {
        Assert.Throws<ArgumentException>(() => Grains.GetGrain<ICounterGrain>(""));
        var factory = (IGrainFactory)_silo.GrainFactory;
        var error = Assert.Throws<ArgumentException>(() => factory.GetGrain<IUnregisteredGrain>("k"));
        Assert.Contains("not registered", error.Message);
        await Task.CompletedTask;
    }

    [Fact]
    public async Task Calls_and_activations_are_measured()
    {
        long calls = 0;
        long activations = 0;
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "OrleansLlm.Runtime")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            if (instrument.Name == "orleansllm.runtime.calls")
            {
                Interlocked.Add(ref calls, value);
            }
            else if (instrument.Name == "orleansllm.runtime.activations.created")
            {
                Interlocked.Add(ref activations, value);
            }
        });
        listener.Start();
        await Grains.GetGrain<ICounterGrain>("metrics").Increment();
        await Grains.GetGrain<ICounterGrain>("metrics").Get();
        Assert.True(Interlocked.Read(ref calls) >= 2);
        Assert.True(Interlocked.Read(ref activations) >= 1);
    }

    public interface IUnregisteredGrain : IGrainWithStringKey;
}
