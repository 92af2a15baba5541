namespace OrleansLlm.Cli;

/// <summary>Greedy or temperature sampling for the single-sequence `generate` verb
/// (the serving engine samples natively).</summary>
internal sealed class SimpleSampler(float temperature, ulong seed)
{
    private ulong _state = seed ^ 0x9E3779B97F4A7C15UL;

    public int Sample(ReadOnlySpan<float> logits)
    {
        var best = 0;
        for (var i = 1; i < logits.Length; i++)
        {
            if (logits[i] > logits[best])
            {
                best = i;
            }
        }
        if (temperature <= 0)
        {
            return best;
        }
        double total = 0;
        var weights = new double[logits.Length];
        for (var i = 0; i < logits.Length; i++)
        {
            weights[i] = Math.Exp((logits[i] - logits[best]) / temperature);
            total += weights[i];
        }
        var target = NextUnit() * total;
        for (var i = 0; i < weights.Length; i++)
        {
            target -= weights[i];
            if (target <= 0)
            {
                return i;
            }
        }
        return best;
    }

    // SplitMix64 → [0, 1)
    private double NextUnit()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (z >> 11) * (1.0 / (1UL << 53));
    }
}
