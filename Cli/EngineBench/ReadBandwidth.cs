using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace OrleansLlm.Cli.EngineBench;

/// <summary>The machine's sustained read bandwidth: all threads summing disjoint slices of a
/// 1 GiB buffer (far larger than any cache), repeated for a given wall time. Measured over the
/// same length of time as the work it is compared with, so short bursts do not flatter it.</summary>
internal sealed unsafe class ReadBandwidth : IDisposable
{
    private const long BufferBytes = 1L << 30;

    private readonly byte* _buffer;
    private readonly int _threads;

    public ReadBandwidth(int threads)
    {
        _threads = threads;
        _buffer = (byte*)NativeMemory.AlignedAlloc((nuint)BufferBytes, 64);
        new Span<byte>(_buffer, (int)BufferBytes).Fill(1);
        Measure(TimeSpan.Zero);  // page in and warm up
    }

    /// <summary>Bytes per second over whole passes of the buffer, repeated until
    /// <paramref name="duration"/> has elapsed (at least one pass).</summary>
    public double Measure(TimeSpan duration)
    {
        var sink = new float[_threads];
        var bytes = 0L;
        var sw = Stopwatch.StartNew();
        do
        {
            Parallel.For(0, _threads, new ParallelOptions { MaxDegreeOfParallelism = _threads }, t =>
            {
                var slice = BufferBytes / _threads;
                sink[t] += SumFloats((float*)(_buffer + t * slice), slice / sizeof(float));
            });
            bytes += BufferBytes;
        }
        while (sw.Elapsed < duration);
        return bytes / sw.Elapsed.TotalSeconds;
    }

    public void Dispose() => NativeMemory.AlignedFree(_buffer);

    private static float SumFloats(float* p, long count)
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        for (long i = 0; i + 32 <= count; i += 32)
        {
            a0 += Vector256.Load(p + i);
            a1 += Vector256.Load(p + i + 8);
            a2 += Vector256.Load(p + i + 16);
            a3 += Vector256.Load(p + i + 24);
        }
        return Vector256.Sum(a0 + a1 + a2 + a3);
    }
}
