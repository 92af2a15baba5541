namespace OrleansLlm.PeerBench;

/// <summary>How closely two engines' logits agree over the same positions.</summary>
/// <param name="CosineMin">The least cosine similarity of one position's logit vectors.</param>
/// <param name="CosineMean">Their mean over positions.</param>
/// <param name="MaxAbsDiff">The largest |ours - theirs| over every logit of every position.</param>
/// <param name="ArgmaxAgreement">The share of positions whose top token is the same.</param>
internal sealed record LogitsAgreement(int Positions, int VocabSize, double CosineMin, double CosineMean, double MaxAbsDiff,
    double ArgmaxAgreement)
{
    /// <summary>Compares [positions, vocab] row-major logits.</summary>
    public static LogitsAgreement Compare(ReadOnlySpan<float> ours, ReadOnlySpan<float> theirs, int vocabSize)
    {
        if (vocabSize <= 0 || ours.Length != theirs.Length || ours.Length == 0 || ours.Length % vocabSize != 0)
        {
            throw new ArgumentException(
                $"logits of {ours.Length} and {theirs.Length} values are not the same whole number of rows of {vocabSize}");
        }
        var positions = ours.Length / vocabSize;
        double cosineMin = double.MaxValue, cosineSum = 0, maxAbsDiff = 0;
        var sameArgmax = 0;
        for (var p = 0; p < positions; p++)
        {
            var a = ours.Slice(p * vocabSize, vocabSize);
            var b = theirs.Slice(p * vocabSize, vocabSize);
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
            if (LlamaCppRunner.ArgMax(a) == LlamaCppRunner.ArgMax(b))
            {
                sameArgmax++;
            }
        }
        return new LogitsAgreement(positions, vocabSize, cosineMin, cosineSum / positions, maxAbsDiff, (double)sameArgmax / positions);
    }
}
