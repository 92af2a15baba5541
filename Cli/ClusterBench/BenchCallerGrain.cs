using System.Diagnostics;
using OrleansLlm.Grains;
using OrleansLlm.Grains.Engines;

namespace OrleansLlm.Cli.ClusterBench;

[DevicePlacement]
internal sealed class BenchCallerGrain : Grain, IBenchCallerGrain
{
    public async Task<CallSample> Call(string targetSilo, int calls, int concurrency)
    {
        var perLoop = calls / concurrency;
        var latencies = new double[perLoop * concurrency];
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async loop =>
        {
            var target = GrainFactory.GetGrain<IBenchTargetGrain>(EngineId.Create(targetSilo, $"target{loop}"));
            for (var i = 0; i < perLoop; i++)
            {
                var started = Stopwatch.GetTimestamp();
                await target.Ping(i);
                latencies[(loop * perLoop) + i] = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
            }
        }));
        return new CallSample(clock.Elapsed.TotalSeconds, latencies);
    }

    public async Task<StreamSample> Stream(string targetSilo, int items)
    {
        var target = GrainFactory.GetGrain<IBenchTargetGrain>(EngineId.Create(targetSilo, "streamer"));
        var clock = Stopwatch.StartNew();
        var received = 0;
        await foreach (var _ in target.Range(items))
        {
            received++;
        }
        return new StreamSample(clock.Elapsed.TotalSeconds, received);
    }
}
