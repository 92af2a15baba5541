using System.Text.Json;

namespace OrleansLlm.Native.Tests;

/// <summary>The C# block hash against the vectors Python's hashlib wrote (tests/fixtures/block-hash-vectors.json), which the C++ side checks too.</summary>
public sealed class BlockHashTests
{
    [Fact]
    public void Matches_the_shared_vectors()
    {
        var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoPaths.Root, "tests", "fixtures", "block-hash-vectors.json")));
        var cases = doc.RootElement.GetProperty("cases").EnumerateArray().ToList();
        Assert.True(cases.Count >= 10);
        foreach (var c in cases)
        {
            var name = c.GetProperty("name").GetString();
            var tokens = c.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            var salt = Convert.FromHexString(c.GetProperty("salt_hex").GetString()!);
            var expected = c.GetProperty("hashes").EnumerateArray().Select(e => e.GetString()!).ToArray();
            var actual = BlockHash.Chain(tokens, c.GetProperty("block_size").GetInt32(), salt);
            Assert.True(expected.SequenceEqual(actual.Select(h => h.ToString())), $"case '{name}'");
            var viaString = BlockHash.Chain(tokens, c.GetProperty("block_size").GetInt32(), c.GetProperty("salt").GetString()!);
            Assert.Equal(actual, viaString);
        }
    }

    [Fact]
    public void Round_trips_through_bytes_and_hex()
    {
        var hash = BlockHash.Chain([1, 2, 3, 4], 4, "t")[0];
        Assert.Equal(hash, BlockHash.FromBytes(hash.ToBytes()));
        Assert.Equal(hash, BlockHash.Parse(hash.ToString()));
        Assert.Equal(32, hash.ToString().Length);
        Assert.NotEqual(hash, BlockHash.Chain([1, 2, 3, 5], 4, "t")[0]);
        Assert.Throws<ArgumentException>(() => BlockHash.FromBytes(new byte[15]));
    }
}
