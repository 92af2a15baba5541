namespace OrleansLlm.Native;

/// <summary>One measurement of the machine's sustained read bandwidth (orleansllm_read_bandwidth_measure).</summary>
/// <param name="BufferBytes">Bytes read per pass.</param>
/// <param name="LastLevelCacheBytes">The cache the buffer was sized against; 0 when unknown.</param>
public sealed record ReadBandwidth(
    double BestBytesPerS,
    double MedianBytesPerS,
    double WorstBytesPerS,
    long BufferBytes,
    long LastLevelCacheBytes,
    int ThreadCount,
    int PassCount)
{
    /// <summary>(best - worst) / median: how much the passes of this measurement disagree.</summary>
    public double Spread => (BestBytesPerS - WorstBytesPerS) / MedianBytesPerS;

    /// <summary>Reads a buffer (0 bytes: max(1 GiB, 8 × the last-level cache)) held like the weights,
    /// <paramref name="passCount"/> times with <paramref name="threadCount"/> threads (0: all cores).</summary>
    public static ReadBandwidth Measure(int threadCount = 0, long bufferBytes = 0, int passCount = 7)
    {
        NativeMethods.Check(NativeMethods.ReadBandwidthMeasure(threadCount, bufferBytes, passCount, out var r));
        return new ReadBandwidth(r.BestBytesPerS, r.MedianBytesPerS, r.WorstBytesPerS, r.BufferBytes, r.LlcBytes, r.NThreads, r.NPasses);
    }
}
