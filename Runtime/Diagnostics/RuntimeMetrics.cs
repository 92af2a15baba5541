using System.Diagnostics.Metrics;

namespace OrleansLlm.Runtime;

/// <summary>The runtime's instruments (meter <c>OrleansLlm.Runtime</c>).</summary>
internal static class RuntimeMetrics
{
    public const string MeterName = "OrleansLlm.Runtime";

    private static readonly Meter s_meter = new(MeterName);

    public static readonly UpDownCounter<long> ActiveActivations = s_meter.CreateUpDownCounter<long>("orleansllm.runtime.activations", description: "live activations on this silo");

    public static readonly Counter<long> ActivationsCreated = s_meter.CreateCounter<long>("orleansllm.runtime.activations.created");

    public static readonly Counter<long> Calls = s_meter.CreateCounter<long>("orleansllm.runtime.calls", description: "grain calls made by this process");

    public static readonly Counter<long> CallFailures = s_meter.CreateCounter<long>("orleansllm.runtime.calls.failed", description: "failed grain calls, tagged with the error type");

    public static readonly Histogram<double> CallDuration = s_meter.CreateHistogram<double>("orleansllm.runtime.calls.duration", unit: "ms");

    public static readonly Counter<long> CallRetries = s_meter.CreateCounter<long>("orleansllm.runtime.calls.retried", description: "attempts that provably did not execute and were retried");
}
