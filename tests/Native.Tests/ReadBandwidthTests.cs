namespace OrleansLlm.Native.Tests;

/// <summary>The roofline probe through the binding: figures ordered and of the buffer asked for,
/// bad arguments a <see cref="NativeException"/>. Its speed is the benchmark's business.</summary>
public sealed class ReadBandwidthTests
{
    [Fact]
    public void Measure_reports_ordered_rates_for_the_buffer_and_threads_given()
    {
        var r = ReadBandwidth.Measure(threadCount: 2, bufferBytes: 32L << 20, passCount: 3);
        Assert.Equal(32L << 20, r.BufferBytes);
        Assert.Equal(2, r.ThreadCount);
        Assert.Equal(3, r.PassCount);
        Assert.True(r.WorstBytesPerS > 0);
        Assert.InRange(r.MedianBytesPerS, r.WorstBytesPerS, r.BestBytesPerS);
        Assert.InRange(r.Spread, 0, double.MaxValue);
    }

    [Fact]
    public void Bad_arguments_throw_with_the_native_message()
    {
        var e = Assert.Throws<NativeException>(() => ReadBandwidth.Measure(passCount: 0));
        Assert.Equal(NativeStatus.InvalidArgument, e.Status);
        Assert.Contains("n_passes", e.Message);
    }
}
