using System.Text.Json;
using OrleansLlm.Tokenizers.PreTokenization;

namespace OrleansLlm.Tokenizers.Tests;

/// <summary>Split behaviors; expected splits are the tokenizers library's documented example.</summary>
public sealed class SplitPreTokenizerTests
{
    [Theory]
    [InlineData("Isolated", "the|-|final|-|-|countdown")]
    [InlineData("Removed", "the|final|countdown")]
    [InlineData("MergedWithPrevious", "the-|final-|-|countdown")]
    [InlineData("MergedWithNext", "the|-final|-|-countdown")]
    [InlineData("Contiguous", "the|-|final|--|countdown")]
    public void Behaviors_split_the_documented_example(string behavior, string expected)
    {
        foreach (string pattern in new[] { """{"String": "-"}""", """{"Regex": "-"}""" })
        {
            var config = JsonDocument.Parse($$"""{"type": "Split", "pattern": {{pattern}}, "behavior": "{{behavior}}", "invert": false}""").RootElement;
            var splitter = PreTokenizer.Create(config)!;
            var output = new List<Piece>();
            splitter.Split(Piece.Of("the-final--countdown"), 0, output);
            Assert.Equal(expected, string.Join("|", output.Select(p => p.ToString())));
        }
    }

    [Fact]
    public void A_regex_without_a_scanner_runs_on_dotnet_regex_with_possessive_quantifiers_read_as_greedy()
    {
        var config = JsonDocument.Parse("""{"type": "Split", "pattern": {"Regex": "\\p{L}++|\\s+"}, "behavior": "Isolated", "invert": false}""").RootElement;
        var output = new List<Piece>();
        PreTokenizer.Create(config)!.Split(Piece.Of("ab  c1"), 0, output);
        Assert.Equal("ab|  |c|1", string.Join("|", output.Select(p => p.ToString())));
    }

    [Fact]
    public void Unsupported_pre_tokenizer_type_is_named_in_the_error()
    {
        var config = JsonDocument.Parse("""{"type": "BertPreTokenizer"}""").RootElement;
        Assert.Contains("BertPreTokenizer", Assert.Throws<TokenizerException>(() => PreTokenizer.Create(config)).Message);
    }
}
