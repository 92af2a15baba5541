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
        Assert.Equal(0.0, a.KlMean, 12);
        Assert.Equal(0.0, a.KlMax, 12);
    }

    [Fact]
    public void Kl_divergence_is_that_of_the_softmaxes_from_the_reference()
    {
        // reference logits (0, ln 3): P = (1/4, 3/4); candidate (5, 5): Q = (1/2, 1/2), whatever the shift.
        // KL(P ‖ Q) = 1/4 · ln(1/2) + 3/4 · ln(3/2); the second row is identical: KL 0.
        float[] reference = [0, (float)Math.Log(3), 1, 2];
        float[] candidate = [5, 5, 1, 2];
        var a = LogitsAgreement.Compare(candidate, reference, vocabSize: 2);
        var expected = 0.25 * Math.Log(0.5) + 0.75 * Math.Log(1.5);
        Assert.Equal(expected, a.KlMax, 6);
        Assert.Equal(expected / 2, a.KlMean, 6);
        // KL is not symmetric: from the candidate's side it is KL(Q ‖ P) = 1/2 · ln(2) + 1/2 · ln(2/3).
        var reverse = LogitsAgreement.Compare(reference, candidate, vocabSize: 2);
        Assert.Equal(0.5 * Math.Log(2) + 0.5 * Math.Log(2.0 / 3), reverse.KlMax, 6);
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
