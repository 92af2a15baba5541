using System.Text.Json;
using System.Text.RegularExpressions;

namespace OrleansLlm.Tokenizers.PreTokenization;

/// <summary>Split: cuts at the matches of a literal or regex pattern, keeping them as the behavior says.</summary>
internal sealed class SplitPreTokenizer : PreTokenizer
{
    private enum Behavior { Isolated, Removed, MergedWithPrevious, MergedWithNext, Contiguous }

    private readonly GptPatternScanner? _scanner;
    private readonly Regex? _regex;
    private readonly string? _literal;
    private readonly Behavior _behavior;
    private readonly bool _invert;

    private SplitPreTokenizer(GptPatternScanner? scanner, Regex? regex, string? literal, Behavior behavior, bool invert)
    {
        _scanner = scanner;
        _regex = regex;
        _literal = literal;
        _behavior = behavior;
        _invert = invert;
    }

    public static SplitPreTokenizer FromConfig(JsonElement config)
    {
        var pattern = config.Pattern("Split pre_tokenizer");
        string behaviorName = config.OptionalString("behavior") ?? "Isolated";
        if (!Enum.TryParse<Behavior>(behaviorName, ignoreCase: true, out var behavior))
        {
            throw new TokenizerException($"Unsupported Split behavior \"{behaviorName}\"");
        }
        bool invert = config.OptionalBool("invert", false);
        if (!pattern.IsRegex)
        {
            if (pattern.Value.Length == 0)
            {
                throw new TokenizerException("Split pre_tokenizer with an empty String pattern");
            }
            return new SplitPreTokenizer(null, null, pattern.Value, behavior, invert);
        }
        var scanner = GptPatternScanner.ForPattern(pattern.Value);
        if (scanner is not null && behavior == Behavior.Isolated && !invert)
        {
            return new SplitPreTokenizer(scanner, null, null, behavior, invert);
        }
        return new SplitPreTokenizer(null, OnigurumaRegex.Compile(pattern.Value, "Split pre_tokenizer"), null, behavior, invert);
    }

    public override void Split(Piece piece, int sectionIndex, List<Piece> output)
    {
        if (_scanner is not null)
        {
            _scanner.Split(piece, output);
            return;
        }
        var matches = new List<(int Start, int Length)>();
        if (_literal is not null)
        {
            var s = piece.Span;
            int at = s.IndexOf(_literal, StringComparison.Ordinal);
            while (at >= 0)
            {
                matches.Add((at, _literal.Length));
                int next = s[(at + _literal.Length)..].IndexOf(_literal, StringComparison.Ordinal);
                at = next < 0 ? -1 : at + _literal.Length + next;
            }
        }
        else
        {
            foreach (var match in _regex!.EnumerateMatches(piece.Span))
            {
                if (match.Length > 0)
                {
                    matches.Add((match.Index, match.Length));
                }
            }
        }
        if (_invert)
        {
            foreach (var (start, length) in matches)
            {
                output.Add(piece.Slice(start, length));
            }
            return;
        }
        Emit(piece, matches, output);
    }

    // Behaviors as in the tokenizers library, e.g. "the-final--countdown" split at "-":
    // Isolated  the | - | final | - | - | countdown     MergedWithPrevious  the- | final- | - | countdown
    // Removed   the | final | countdown                 MergedWithNext      the | -final | - | -countdown
    // Contiguous the | - | final | -- | countdown
    private void Emit(Piece piece, List<(int Start, int Length)> matches, List<Piece> output)
    {
        int previous = 0;
        int pendingStart = -1; // MergedWithNext: where the last match starts, waiting for what follows it
        bool lastWasMatch = false;
        foreach (var (start, length) in matches)
        {
            bool gap = start > previous;
            switch (_behavior)
            {
                case Behavior.Removed:
                    if (gap)
                    {
                        output.Add(piece.Slice(previous, start - previous));
                    }
                    break;
                case Behavior.Isolated:
                    if (gap)
                    {
                        output.Add(piece.Slice(previous, start - previous));
                    }
                    output.Add(piece.Slice(start, length));
                    break;
                case Behavior.MergedWithPrevious:
                    int from = gap ? previous : start;
                    output.Add(piece.Slice(from, start + length - from));
                    break;
                case Behavior.MergedWithNext:
                    int textStart = pendingStart >= 0 ? pendingStart : previous;
                    if (start > textStart)
                    {
                        output.Add(piece.Slice(textStart, start - textStart));
                    }
                    pendingStart = start;
                    break;
                case Behavior.Contiguous:
                    if (gap)
                    {
                        output.Add(piece.Slice(previous, start - previous));
                    }
                    if (!gap && lastWasMatch)
                    {
                        var last = output[^1];
                        output[^1] = new Piece(last.Text, last.Start, last.Length + length);
                    }
                    else
                    {
                        output.Add(piece.Slice(start, length));
                    }
                    break;
            }
            lastWasMatch = true;
            previous = start + length;
        }
        int tailFrom = _behavior == Behavior.MergedWithNext && pendingStart >= 0 ? pendingStart : previous;
        if (tailFrom < piece.Length)
        {
            output.Add(piece.Slice(tailFrom, piece.Length - tailFrom));
        }
    }
}
