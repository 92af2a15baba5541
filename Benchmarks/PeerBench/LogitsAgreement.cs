using OrleansLlm.Native;

namespace OrleansLlm.PeerBench;

/// <summary>How closely a candidate's logits agree with a reference's over the same positions.</summary>
/// <param name="CosineMin">The least cosine similarity of one position's logit vectors.</param>
/// <param name="CosineMean">Their mean over positions.</param>
/// <param name="MaxAbsDiff">The largest |candidate - reference| over every logit of every position.</param>
/// <param name="ArgmaxAgreement">The share of positions whose top token is the same.</param>
/// <param name="KlMean">KL(reference ‖ candidate) of the next-token distributions (softmax of the
/// logits, natural log), the mean over positions: what the candidate loses of the reference's
/// distribution, the figure llama.cpp's perplexity tool reports for quantized models.</param>
/// <param name="KlMax">The largest KL of one position.</param>
internal sealed record LogitsAgreement(int Positions, int VocabSize, double CosineMin, double CosineMean, double MaxAbsDiff,
    double ArgmaxAgreement, double KlMean, double KlMax)
{
    /// <summary>Compares [positions, vocab] row-major logits.</summary>
    public static LogitsAgreement Compare(ReadOnlySpan<float> candidate, ReadOnlySpan<float> reference, int vocabSize)
    {
        if (vocabSize <= 0 || candidate.Length != reference.Length || candidate.Length == 0 || candidate.Length % vocabSize != 0)
        {
            throw new ArgumentException(
                $"logits of {candidate.Length} and {reference.Length} values are not the same whole number of rows of {vocabSize}");
        }
        var positions = candidate.Length / vocabSize;
        double cosineMin = double.MaxValue, cosineSum = 0, maxAbsDiff = 0, klSum = 0, klMax = 0;
        var sameArgmax = 0;
        for (var p = 0; p < positions; p++)
        {
            var a = candidate.Slice(p * vocabSize, vocabSize);
            var b = reference.Slice(p * vocabSize, vocabSize);
            double dot = 0, normA = 0, normB = 0;
            for (var i = 0; i < vocabSize; i++)
            {
                dot += (double)a[i] * b[i];
                normA += (double)a[i] * a[i];
                normB += (double)b[i] * b[i];
                maxAbsDiff = Math.Max(maxAbsDiff, Math.Abs((double)a[i] - b[i]));
            }
            var cosine = dot / Math.Sqrt(normA * normB);
            cosineMin = Math.Min(cosineMin, cosine);
            cosineSum += cosine;
            var kl = KlDivergence(b, a);
            klSum += kl;
            klMax = Math.Max(klMax, kl);
            if (Logits.ArgMax(a) == Logits.ArgMax(b))
            {
                sameArgmax++;
            }
        }
        return new LogitsAgreement(positions, vocabSize, cosineMin, cosineSum / positions, maxAbsDiff, (double)sameArgmax / positions,
            klSum / positions, klMax);
    }

    /// <summary>KL(softmax(p) ‖ softmax(q)) in double: Σ P·(log P − log Q) with both log-softmaxes
    /// shifted by their maximum, so no exponent overflows.</summary>
    internal static double KlDivergence(ReadOnlySpan<float> p, ReadOnlySpan<float> q)
    {
        double logSumP = LogSumExp(p), logSumQ = LogSumExp(q), kl = 0;
        for (var i = 0; i < p.Length; i++)
        {
            var logP = p[i] - logSumP;
            kl += Math.Exp(logP) * (logP - (q[i] - logSumQ));
        }
        return Math.Max(0, kl);  // rounding can leave a tiny negative for identical rows
    }

    private static double LogSumExp(ReadOnlySpan<float> x)
    {
        double max = double.NegativeInfinity, sum = 0;
        foreach (var v in x)
        {
            max = Math.Max(max, v);
        }
        foreach (var v in x)
        {
            sum += Math.Exp(v - max);
        }
        return max + Math.Log(sum);
    }
}
