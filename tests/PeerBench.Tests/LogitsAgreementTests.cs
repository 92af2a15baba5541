namespace OrleansLlm.PeerBench.Tests;

/// <summary>The comparison itself, on vectors whose cosine, difference and argmax are worked out by hand.</summary>
public sealed class LogitsAgreementTests
{
    [Fact]
    public void Identical_logits_agree_completely()
    {
        float[] logits = [1, -2, 3, 0.5f, 4, 4.5f];
        var a = LogitsAgreement.Compare(logits, logits, vocabSize: 3);
        Assert.Equal(2, a.Positions);
        Assert.Equal(1.0, a.CosineMin, 12);
        Assert.Equal(1.0, a.CosineMean, 12);
        Assert.Equal(0.0, a.MaxAbsDiff);
        Assert.Equal(1.0, a.ArgmaxAgreement);
    }

    [Fact]
    public void Orthogonal_rows_and_different_argmax_are_reported()
    {
        // row 0: (1, 0) vs (0, 1): cosine 0, argmax 0 vs 1, |diff| 1
        // row 1: (3, 4) vs (3, 4.5): cosine (9 + 18) / (5 · sqrt(29.25)), same argmax, |diff| 0.5
        float[] ours = [1, 0, 3, 4];
        float[] theirs = [0, 1, 3, 4.5f];
        var a = LogitsAgreement.Compare(ours, theirs, vocabSize: 2);
        var cosine1 = 27 / (5 * Math.Sqrt(29.25));
        Assert.Equal(0.0, a.CosineMin, 12);
        Assert.Equal(cosine1 / 2, a.CosineMean, 12);
        Assert.Equal(1.0, a.MaxAbsDiff, 12);
        Assert.Equal(0.5, a.ArgmaxAgreement);
    }

    [Fact]
    public void Mismatched_shapes_are_refused()
    {
        Assert.Throws<ArgumentException>(() => LogitsAgreement.Compare(new float[6], new float[4], 2));
        Assert.Throws<ArgumentException>(() => LogitsAgreement.Compare(new float[5], new float[5], 2));
        Assert.Throws<ArgumentException>(() => LogitsAgreement.Compare([], [], 2));
    }
}
