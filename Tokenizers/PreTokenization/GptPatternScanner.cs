namespace OrleansLlm.Tokenizers.PreTokenization;

/// <summary>
/// Hand-written matchers for the GPT-2 and GPT-4/Llama-3 split regexes, with the exact
/// leftmost-alternative and backtracking semantics of the regex, on code points (so astral
/// letters are letters), without allocating. Recognised by their exact pattern strings.
/// </summary>
internal sealed class GptPatternScanner
{
    /// <summary>Llama 3 and GPT-4 (cl100k): numbers in runs of at most three.</summary>
    public const string Llama3Pattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>Qwen 2/2.5/3: the same with single-digit numbers.</summary>
    public const string QwenPattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>The GPT-2 pattern the ByteLevel pre-tokenizer applies when use_regex is set.</summary>
    public const string Gpt2Pattern =
        @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    private readonly bool _gpt2;
    private readonly int _maxDigits;

    private GptPatternScanner(bool gpt2, int maxDigits)
    {
        _gpt2 = gpt2;
        _maxDigits = maxDigits;
    }

    public static GptPatternScanner Gpt2 { get; } = new(gpt2: true, maxDigits: int.MaxValue);

    public static GptPatternScanner? ForPattern(string pattern) => pattern switch
    {
        Llama3Pattern => new GptPatternScanner(gpt2: false, maxDigits: 3),
        QwenPattern => new GptPatternScanner(gpt2: false, maxDigits: 1),
        _ => null,
    };

    /// <summary>Splits <paramref name="piece"/> into its matches (the pattern matches every character, so there are no gaps).</summary>
    public void Split(Piece piece, List<Piece> output)
    {
        var s = piece.Span;
        int i = 0;
        while (i < s.Length)
        {
            int end = MatchAt(s, i);
            output.Add(piece.Slice(i, end - i));
            i = end;
        }
    }

    private bool IsSpace(int cp) => _gpt2 ? CharClass.IsJsSpace(cp) : CharClass.IsWhiteSpace(cp);

    private int MatchAt(ReadOnlySpan<char> s, int i)
    {
        int cp = CharClass.CodePointAt(s, i, out int w);

        // 's 't 're 've 'm 'll 'd (case-insensitive, ASCII folding, in the Llama 3 family)
        if (cp == '\'' && i + 1 < s.Length)
        {
            int contraction = MatchContraction(s, i + 1);
            if (contraction > 0)
            {
                return i + 1 + contraction;
            }
        }

        if (_gpt2)
        {
            // ' ?\p{L}+' | ' ?\p{N}+' | ' ?[^\s\p{L}\p{N}]+'
            int start = i;
            int first = cp;
            int firstWidth = w;
            if (cp == ' ' && i + w < s.Length)
            {
                int nextCp = CharClass.CodePointAt(s, i + w, out int nextWidth);
                if (CharClass.IsLetter(nextCp) || CharClass.IsNumber(nextCp) || !IsSpace(nextCp))
                {
                    start = i + w;
                    first = nextCp;
                    firstWidth = nextWidth;
                }
            }
            if (CharClass.IsLetter(first))
            {
                return Run(s, start + firstWidth, CharClass.IsLetter);
            }
            if (CharClass.IsNumber(first))
            {
                return Run(s, start + firstWidth, CharClass.IsNumber);
            }
            if (!IsSpace(first))
            {
                return Run(s, start + firstWidth, c => !CharClass.IsJsSpace(c) && !CharClass.IsLetter(c) && !CharClass.IsNumber(c));
            }
            return MatchWhitespace(s, i, newlineRule: false);
        }

        // [^\r\n\p{L}\p{N}]?\p{L}+
        if (CharClass.IsLetter(cp))
        {
            return Run(s, i + w, CharClass.IsLetter);
        }
        if (cp != '\r' && cp != '\n' && !CharClass.IsNumber(cp) && i + w < s.Length)
        {
            int nextCp = CharClass.CodePointAt(s, i + w, out int nextWidth);
            if (CharClass.IsLetter(nextCp))
            {
                return Run(s, i + w + nextWidth, CharClass.IsLetter);
            }
        }

        // \p{N}{1,max}
        if (CharClass.IsNumber(cp))
        {
            int end = i + w;
            for (int count = 1; count < _maxDigits && end < s.Length; count++)
            {
                int next = CharClass.CodePointAt(s, end, out int nextWidth);
                if (!CharClass.IsNumber(next))
                {
                    break;
                }
                end += nextWidth;
            }
            return end;
        }

        // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
        int symbolStart = -1;
        if (IsSymbol(cp))
        {
            symbolStart = i;
        }
        else if (cp == ' ' && i + 1 < s.Length && IsSymbol(CharClass.CodePointAt(s, i + 1, out _)))
        {
            symbolStart = i + 1;
        }
        if (symbolStart >= 0)
        {
            int end = Run(s, symbolStart, IsSymbol);
            while (end < s.Length && s[end] is '\r' or '\n')
            {
                end++;
            }
            return end;
        }

        return MatchWhitespace(s, i, newlineRule: true);
    }

    private static bool IsSymbol(int cp) => !CharClass.IsWhiteSpace(cp) && !CharClass.IsLetter(cp) && !CharClass.IsNumber(cp);

    // '\s*[\r\n]+' (Llama 3 family only), then '\s+(?!\S)', then '\s+'; position i holds whitespace.
    private int MatchWhitespace(ReadOnlySpan<char> s, int i, bool newlineRule)
    {
        int runEnd = i;
        int lastNewline = -1;
        while (runEnd < s.Length)
        {
            int cp = CharClass.CodePointAt(s, runEnd, out int w);
            if (!IsSpace(cp))
            {
                break;
            }
            if (cp is '\r' or '\n')
            {
                lastNewline = runEnd;
            }
            runEnd += w;
        }
        if (newlineRule && lastNewline >= 0)
        {
            return lastNewline + 1;
        }
        if (runEnd == s.Length)
        {
            return runEnd;
        }
        // \s+(?!\S): give back the last whitespace character so the next word keeps it.
        int lastStart = PreviousCodePointStart(s, runEnd);
        return lastStart > i ? lastStart : runEnd;
    }

    private static int PreviousCodePointStart(ReadOnlySpan<char> s, int end)
    {
        int start = end - 1;
        if (start > 0 && char.IsLowSurrogate(s[start]) && char.IsHighSurrogate(s[start - 1]))
        {
            start--;
        }
        return start;
    }

    private int MatchContraction(ReadOnlySpan<char> s, int i)
    {
        char a = Fold(s[i]);
        char b = i + 1 < s.Length ? Fold(s[i + 1]) : '\0';
        switch (a)
        {
            case 's' or 't' or 'm' or 'd':
                return 1;
            case 'r' or 'v' when b == 'e':
                return 2;
            case 'l' when b == 'l':
                return 2;
            default:
                return 0;
        }
    }

    private char Fold(char c) => !_gpt2 && c is >= 'A' and <= 'Z' ? (char)(c + 32) : c;

    private static int Run(ReadOnlySpan<char> s, int i, Func<int, bool> predicate)
    {
        while (i < s.Length)
        {
            int cp = CharClass.CodePointAt(s, i, out int w);
            if (!predicate(cp))
            {
                break;
            }
            i += w;
        }
        return i;
    }
}
