namespace OrleansLlm.Cli.Converting;

/// <summary>
/// `rope_freqs.weight` for llama3 rope scaling (docs/GGUF.md): one factor per frequency
/// i &lt; head_dim/2 by which llama.cpp divides that frequency; the same frequencies as HF's llama3 rule.
/// </summary>
internal static class RopeFrequencyFactors
{
    public static float[] Llama3(int headDim, double ropeTheta, Llama3RopeScalingConfig scaling)
    {
        var factors = new float[headDim / 2];
        double lowFreqWavelen = scaling.OriginalMaxPositionEmbeddings / scaling.LowFreqFactor;
        double highFreqWavelen = scaling.OriginalMaxPositionEmbeddings / scaling.HighFreqFactor;
        for (int i = 0; i < factors.Length; i++)
        {
            double invFreq = 1.0 / Math.Pow(ropeTheta, 2.0 * i / headDim);
            double wavelen = 2 * Math.PI / invFreq;
            if (wavelen < highFreqWavelen)
            {
                factors[i] = 1f;
            }
            else if (wavelen > lowFreqWavelen)
            {
                factors[i] = (float)scaling.Factor;
            }
            else
            {
                double smooth = (scaling.OriginalMaxPositionEmbeddings / wavelen - scaling.LowFreqFactor)
                    / (scaling.HighFreqFactor - scaling.LowFreqFactor);
                factors[i] = (float)(1.0 / ((1 - smooth) / scaling.Factor + smooth));
            }
        }
        return factors;
    }
}
