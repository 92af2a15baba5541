using System.Text;
using System.Text.RegularExpressions;
using OrleansLlm.Tokenizers.PreTokenization;

namespace OrleansLlm.Tokenizers.Tests;

/// <summary>
/// The hand-written pattern scanners against .NET's regex engine running the same patterns, on
/// random BMP text (where UTF-16 units are code points, so both must split identically).
/// </summary>
public sealed class GptPatternScannerTests
{
    // Letters (incl. marks-free accented and CJK), numbers of several scripts, symbols, combining
    // marks, and every kind of whitespace the patterns distinguish.
    private const string Alphabet =
        "abcXYZéßĳЖж中文カ한0159٣५Ⅻ½'\"!?.,;:-_()[]{}<>@#$%^&*+=/\\|~`\u0301\u0308 \t\n\r\u000b\u000c\u00a0\u2003\u3000\u2028";

    public static TheoryData<string> Patterns() => new(GptPatternScanner.Llama3Pattern, GptPatternScanner.QwenPattern);

    [Theory]
    [MemberData(nameof(Patterns))]
    public void Llama3_family_scanner_splits_like_the_regex(string pattern)
    {
        var scanner = GptPatternScanner.ForPattern(pattern)!;
        AssertSameSplits(pattern, (piece, output) => scanner.Split(piece, output));
    }

    [Fact]
    public void Gpt2_scanner_splits_like_the_regex()
    {
        AssertSameSplits(GptPatternScanner.Gpt2Pattern, (piece, output) => GptPatternScanner.Gpt2.Split(piece, output));
    }

    [Fact]
    public void Astral_letters_are_letters_and_emoji_are_symbols()
    {
        var scanner = GptPatternScanner.ForPattern(GptPatternScanner.Llama3Pattern)!;
        var output = new List<Piece>();
        scanner.Split(Piece.Of("a 𝔄𝔅 🎉🎉 123456"), output);
        Assert.Equal(["a", " 𝔄𝔅", " 🎉🎉", " ", "123", "456"], output.Select(p => p.ToString()));
    }

    [Fact]
    public void Contractions_match_case_insensitively_and_before_letters()
    {
        var scanner = GptPatternScanner.ForPattern(GptPatternScanner.Llama3Pattern)!;
        var output = new List<Piece>();
        scanner.Split(Piece.Of("I'M you'Re 'sam"), output);
        Assert.Equal(["I", "'M", " you", "'Re", " '", "sam"], output.Select(p => p.ToString()));
    }

    private static void AssertSameSplits(string pattern, Action<Piece, List<Piece>> split)
    {
        var regex = new Regex(pattern, RegexOptions.CultureInvariant);
        var random = new Random(7);
        for (int round = 0; round < 3000; round++)
        {
            var sb = new StringBuilder();
            int length = random.Next(1, 24);
            for (int i = 0; i < length; i++)
            {
                sb.Append(Alphabet[random.Next(Alphabet.Length)]);
            }
            string text = sb.ToString();
            var expected = regex.Matches(text).Select(m => m.Value).ToArray();
            var actual = new List<Piece>();
            split(Piece.Of(text), actual);
            Assert.True(expected.SequenceEqual(actual.Select(p => p.ToString())),
                $"text {System.Text.Json.JsonSerializer.Serialize(text)}: regex [{string.Join("|", expected)}] scanner [{string.Join("|", actual)}]");
        }
    }
}
