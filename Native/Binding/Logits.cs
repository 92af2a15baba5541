namespace OrleansLlm.Native;

/// <summary>Helpers over a logits row, shared by the benchmarks' greedy decoding.</summary>
public static class Logits
{
    /// <summary>The index of the largest value, the smallest such index on ties (as the native greedy sampler).</summary>
    public static int ArgMax(ReadOnlySpan<float> values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }
        return best;
    }
}
