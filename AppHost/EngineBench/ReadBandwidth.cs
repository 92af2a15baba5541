using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace OrleansLlm.AppHost.EngineBench;

/// <summary>Measures how fast all threads together can stream a buffer far larger than the caches.</summary>
internal static class ReadBandwidth
{
    private const long BufferBytes = 1L << 30;

    public static unsafe double Measure(int threads, int runs = 5)
    {
        var buffer = (byte*)NativeMemory.AlignedAlloc((nuint)BufferBytes, 64);
        try
        {
            new Span<byte>(buffer, (int)BufferBytes).Fill(1);
            var best = 0.0;
            var sink = new float[threads];
            for (var run = 0; run < runs; run++)
            {
                var sw = Stopwatch.StartNew();
                Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
                {
                    var slice = BufferBytes / threads;
                    sink[t] = SumFloats((float*)(buffer + t * slice), slice / sizeof(float));
                });
                best = Math.Max(best, BufferBytes / sw.Elapsed.TotalSeconds);
            }
            return best;
        }
        finally
        {
            NativeMemory.AlignedFree(buffer);
        }
    }

    private static unsafe float SumFloats(float* p, long count)
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
