using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace OrleansLlm.Tokenizers;

/// <summary>
/// Compiles the Oniguruma patterns of tokenizer.json with .NET <see cref="Regex"/>, for patterns
/// that have no hand-written scanner. Possessive quantifiers are read as greedy ones (as the
/// JavaScript reference does); <c>\x{..}</c> becomes <c>\uXXXX</c>. .NET matches UTF-16 units, so
/// astral letters do not count as <c>\p{L}</c> here; the scanners in <see cref="PreTokenization"/>
/// cover the common LLM patterns with code-point semantics instead.
/// </summary>
internal static class OnigurumaRegex
{
    public static Regex Compile(string pattern, string context)
    {
        string translated = Translate(pattern);
        try
        {
            return new Regex(translated, RegexOptions.Compiled | RegexOptions.CultureInvariant);
        }
        catch (ArgumentException e)
        {
            throw new TokenizerException($"{context}: unsupported regex pattern {pattern}: {e.Message}", e);
        }
    }

    private static string Translate(string pattern)
    {
        var sb = new StringBuilder(pattern.Length);
        bool inClass = false;
        for (int i = 0; i < pattern.Length; i++)
        {
            char c = pattern[i];
            if (c == '\\' && i + 1 < pattern.Length)
            {
                char next = pattern[i + 1];
                if (next == 'x' && i + 2 < pattern.Length && pattern[i + 2] == '{')
                {
                    int close = pattern.IndexOf('}', i + 3);
                    if (close > 0 && int.TryParse(pattern.AsSpan(i + 3, close - i - 3), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int cp) && cp < 0x10000)
                    {
                        sb.Append("\\u").Append(cp.ToString("X4", CultureInfo.InvariantCulture));
                        i = close;
                        continue;
                    }
                }
                if (next == 'h')
                {
                    sb.Append(inClass ? "0-9A-Fa-f" : "[0-9A-Fa-f]");
                    i++;
                    continue;
                }
                sb.Append(c).Append(next);
                i++;
                continue;
            }
            if (inClass)
            {
                if (c == ']')
                {
                    inClass = false;
                }
                sb.Append(c);
                continue;
            }
            if (c == '[')
            {
                inClass = true;
                sb.Append(c);
                if (i + 1 < pattern.Length && pattern[i + 1] == '^')
                {
                    sb.Append('^');
                    i++;
                }
                if (i + 1 < pattern.Length && pattern[i + 1] == ']')
                {
                    sb.Append("\\]");
                    i++;
                }
                continue;
            }
            if (c == '+' && i > 0 && pattern[i - 1] is '?' or '*' or '+' or '}' && !IsEscaped(pattern, i - 1))
            {
                continue; // possessive quantifier: read as greedy
            }
            sb.Append(c);
        }
        return sb.ToString();
    }

    private static bool IsEscaped(string pattern, int index)
    {
        int backslashes = 0;
        for (int i = index - 1; i >= 0 && pattern[i] == '\\'; i--)
        {
            backslashes++;
        }
        return backslashes % 2 == 1;
    }
}
