using OrleansLlm.Tokenizers.Models;

namespace OrleansLlm.Tokenizers.Tests.Models;

// Independent checks: the expected ranks are the ones inserted (or a Dictionary fed the same pairs).
public sealed class MergeRankTableTests
{
    [Fact]
    public void FindsEveryInsertedPairIncludingTokensMergedWithThemselves()
    {
        var random = new Random(7);
        var expected = new Dictionary<(int, int), int>();
        var table = new MergeRankTable(20_000);
        for (int rank = 0; rank < 20_000; rank++)
        {
            // Half the pairs are (x, x): the keys long.GetHashCode sent to one bucket.
            int left = random.Next(130_000);
            int right = rank % 2 == 0 ? left : random.Next(130_000);
            if (expected.TryAdd((left, right), rank))
            {
                Assert.True(table.TryAdd(left, right, rank));
            }
            else
            {
                Assert.False(table.TryAdd(left, right, rank));
            }
        }
        Assert.Equal(expected.Count, table.Count);
        foreach (var ((left, right), rank) in expected)
        {
            Assert.Equal(rank, table.RankOf(left, right));
        }
        Assert.Equal(int.MaxValue, table.RankOf(130_001, 130_001));
    }

    [Fact]
    public void KeepsTheFirstRankOfADuplicatePair()
    {
        var table = new MergeRankTable(4);
        Assert.True(table.TryAdd(3, 3, 0));
        Assert.False(table.TryAdd(3, 3, 1));
        Assert.Equal(0, table.RankOf(3, 3));
    }

    [Fact]
    public void OrderMattersAndUnknownSymbolsNeverMerge()
    {
        var table = new MergeRankTable(4);
        table.TryAdd(1, 2, 5);
        Assert.Equal(5, table.RankOf(1, 2));
        Assert.Equal(int.MaxValue, table.RankOf(2, 1));
        Assert.Equal(int.MaxValue, table.RankOf(-1, 2));
        Assert.Equal(int.MaxValue, table.RankOf(1, int.MinValue));
    }
}
