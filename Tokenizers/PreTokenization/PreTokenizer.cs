using System.Text.Json;

namespace OrleansLlm.Tokenizers.PreTokenization;

/// <summary>Splits a normalized section into the words the model encodes (tokenizer.json "pre_tokenizer").</summary>
internal abstract class PreTokenizer
{
    /// <summary>True when words leave this stage as UTF-8 bytes for a byte-level BPE (the ByteLevel stage).</summary>
    public virtual bool ProducesByteLevel => false;

    /// <summary>Appends the words of <paramref name="piece"/> to <paramref name="output"/>.</summary>
    public abstract void Split(Piece piece, int sectionIndex, List<Piece> output);

    public static PreTokenizer? Create(JsonElement config)
    {
        if (config.IsNullOrMissing())
        {
            return null;
        }
        string type = config.Type("pre_tokenizer");
        return type switch
        {
            "Split" => SplitPreTokenizer.FromConfig(config),
            "ByteLevel" => new ByteLevelPreTokenizer(
                config.OptionalBool("add_prefix_space", false), config.OptionalBool("use_regex", true)),
            "Metaspace" => new MetaspacePreTokenizer(
                config.OptionalString("replacement") ?? "\u2581",
                config.OptionalString("prepend_scheme") ?? (config.OptionalBool("add_prefix_space", true) ? "always" : "never"),
                config.OptionalBool("split", false)),
            "Digits" => new DigitsPreTokenizer(config.OptionalBool("individual_digits", false)),
            "Punctuation" => new PunctuationPreTokenizer(),
            "Whitespace" => new WhitespacePreTokenizer(),
            "WhitespaceSplit" => new WhitespaceSplitPreTokenizer(),
            "Sequence" => SequencePreTokenizer.Create(
                config.Property("pretokenizers").EnumerateArray().Select(Create).OfType<PreTokenizer>().ToArray()),
            _ => throw new TokenizerException($"Unsupported pre_tokenizer type \"{type}\""),
        };
    }
}

internal sealed class SequencePreTokenizer : PreTokenizer
{
    private readonly PreTokenizer[] _stages;

    private SequencePreTokenizer(PreTokenizer[] stages) => _stages = stages;

    public override bool ProducesByteLevel => _stages.Length > 0 && _stages[^1].ProducesByteLevel;

    public static SequencePreTokenizer Create(PreTokenizer[] stages)
    {
        for (int i = 0; i < stages.Length - 1; i++)
        {
            if (stages[i].ProducesByteLevel)
            {
                throw new TokenizerException("Unsupported pre_tokenizer Sequence: ByteLevel must be its last stage");
            }
        }
        return new SequencePreTokenizer(stages);
    }

    public override void Split(Piece piece, int sectionIndex, List<Piece> output)
    {
        if (_stages.Length == 0)
        {
            output.Add(piece);
            return;
        }
        var current = new List<Piece> { piece };
        var next = new List<Piece>();
        foreach (var stage in _stages)
        {
            next.Clear();
            foreach (var p in current)
            {
                stage.Split(p, sectionIndex, next);
            }
            (current, next) = (next, current);
        }
        output.AddRange(current);
    }
}

/// <summary>ByteLevel: optional GPT-2 split and prefix space; the BPE model then reads the words as UTF-8 bytes.</summary>
internal sealed class ByteLevelPreTokenizer(bool addPrefixSpace, bool useRegex) : PreTokenizer
{
    public override bool ProducesByteLevel => true;

    public override void Split(Piece piece, int sectionIndex, List<Piece> output)
    {
        if (addPrefixSpace && !piece.Span.StartsWith(' '))
        {
            piece = Piece.Of(" " + piece.ToString());
        }
        if (useRegex)
        {
            GptPatternScanner.Gpt2.Split(piece, output);
        }
        else
        {
            output.Add(piece);
        }
    }
}

/// <summary>Metaspace: spaces become the replacement character, with a prefix per prepend_scheme.</summary>
internal sealed class MetaspacePreTokenizer(string replacement, string prependScheme, bool split) : PreTokenizer
{
    public override void Split(Piece piece, int sectionIndex, List<Piece> output)
    {
        string text = piece.ToString().Replace(" ", replacement, StringComparison.Ordinal);
        bool prepend = prependScheme == "always" || (prependScheme == "first" && sectionIndex == 0);
        if (prepend && !text.StartsWith(replacement, StringComparison.Ordinal))
        {
            text = replacement + text;
        }
        if (!split)
        {
            output.Add(Piece.Of(text));
            return;
        }
        // split: each word starts at a replacement character (merged with the next text)
        int start = 0;
        int at = text.IndexOf(replacement, 1, StringComparison.Ordinal);
        while (at > 0)
        {
            output.Add(new Piece(text, start, at - start));
            start = at;
            at = at + replacement.Length < text.Length ? text.IndexOf(replacement, at + replacement.Length, StringComparison.Ordinal) : -1;
        }
        if (start < text.Length)
        {
            output.Add(new Piece(text, start, text.Length - start));
        }
    }
}

/// <summary>Digits: runs of ASCII digits (or single digits) apart from everything else.</summary>
internal sealed class DigitsPreTokenizer(bool individualDigits) : PreTokenizer
{
    public override void Split(Piece piece, int sectionIndex, List<Piece> output)
    {
        var s = piece.Span;
        int i = 0;
        while (i < s.Length)
        {
            int start = i;
            if (char.IsAsciiDigit(s[i]))
            {
                i++;
                while (!individualDigits && i < s.Length && char.IsAsciiDigit(s[i]))
                {
                    i++;
                }
            }
            else
            {
                while (i < s.Length && !char.IsAsciiDigit(s[i]))
                {
                    i++;
                }
            }
            output.Add(piece.Slice(start, i - start));
        }
    }
}

/// <summary>Punctuation: runs of punctuation apart from runs of everything else.</summary>
internal sealed class PunctuationPreTokenizer : PreTokenizer
{
    public override void Split(Piece piece, int sectionIndex, List<Piece> output)
    {
        var s = piece.Span;
        int i = 0;
        while (i < s.Length)
        {
            int start = i;
            bool punctuation = CharClass.IsPunctuation(CharClass.CodePointAt(s, i, out _));
            while (i < s.Length)
            {
                int cp = CharClass.CodePointAt(s, i, out int w);
                if (CharClass.IsPunctuation(cp) != punctuation)
                {
                    break;
                }
                i += w;
            }
            output.Add(piece.Slice(start, i - start));
        }
    }
}

/// <summary>Whitespace: <c>\w+|[^\w\s]+</c> with ASCII word characters; whitespace is dropped.</summary>
internal sealed class WhitespacePreTokenizer : PreTokenizer
{
    private static bool IsWord(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';

    public override void Split(Piece piece, int sectionIndex, List<Piece> output)
    {
        var s = piece.Span;
        int i = 0;
        while (i < s.Length)
        {
            if (CharClass.IsJsSpace(s[i]))
            {
                i++;
                continue;
            }
            int start = i;
            bool word = IsWord(s[i]);
            while (i < s.Length && !CharClass.IsJsSpace(s[i]) && IsWord(s[i]) == word)
            {
                i++;
            }
            output.Add(piece.Slice(start, i - start));
        }
    }
}

/// <summary>WhitespaceSplit: the runs of non-whitespace.</summary>
internal sealed class WhitespaceSplitPreTokenizer : PreTokenizer
{
    public override void Split(Piece piece, int sectionIndex, List<Piece> output)
    {
        var s = piece.Span;
        int i = 0;
        while (i < s.Length)
        {
            while (i < s.Length && CharClass.IsJsSpace(s[i]))
            {
                i++;
            }
            int start = i;
            while (i < s.Length && !CharClass.IsJsSpace(s[i]))
            {
                i++;
            }
            if (i > start)
            {
                output.Add(piece.Slice(start, i - start));
            }
        }
    }
}
