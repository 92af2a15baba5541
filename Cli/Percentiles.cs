namespace OrleansLlm.Cli;

/// <summary>Percentiles of benchmark samples, one definition for every `bench` verb.</summary>
internal static class Percentiles
{
    /// <summary>
    /// The <paramref name="p"/>-th percentile (0..100) of ascending <paramref name="sorted"/>, linearly
    /// interpolated between the closest ranks (numpy's default, as vLLM reports); 0 for no samples.
    /// </summary>
    public static double Of(IReadOnlyList<double> sorted, double p)
    {
        if (sorted.Count == 0)
        {
            return 0;
        }
        var rank = p / 100 * (sorted.Count - 1);
        var lo = (int)Math.Floor(rank);
        var hi = Math.Min(lo + 1, sorted.Count - 1);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
    }
}
