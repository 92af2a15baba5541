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
        bool lastWasQuantifier = false;
        for (int i = 0; i < pattern.Length; i++)
        {
            char c = pattern[i];
            bool quantifier = false;
            if (c == '\\' && i + 1 < pattern.Length)
            {
                char next = pattern[i + 1];
                int close = i + 2 < pattern.Length && pattern[i + 2] == '{' ? pattern.IndexOf('}', i + 3) : -1;
                if (next == 'x' && close > 0
                    && int.TryParse(pattern.AsSpan(i + 3, close - i - 3), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int cp) && cp < 0x10000)
                {
                    sb.Append("\\u").Append(cp.ToString("X4", CultureInfo.InvariantCulture));
                    i = close;
                }
                else if (next is 'p' or 'P' && close > 0)
                {
                    sb.Append(pattern, i, close - i + 1);
                    i = close;
                }
                else if (next == 'h')
                {
                    sb.Append(inClass ? "0-9A-Fa-f" : "[0-9A-Fa-f]");
                    i++;
                }
                else
                {
                    sb.Append(c).Append(next);
                    i++;
                }
            }
            else if (inClass)
            {
                inClass = c != ']';
                sb.Append(c);
            }
            else if (c == '[')
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
            }
            else if (c == '+' && lastWasQuantifier)
            {
                // possessive quantifier: read as greedy, as the reference does
            }
            else if (c is '?' or '*' or '+')
            {
                quantifier = !(c == '?' && sb.Length > 0 && sb[^1] == '('); // "(?" opens a group
                sb.Append(c);
            }
            else if (c == '{' && pattern.IndexOf('}', i) is int end && end > i
                && pattern.AsSpan(i + 1, end - i - 1).IndexOfAnyExcept("0123456789,") < 0)
            {
                sb.Append(pattern, i, end - i + 1);
                i = end;
                quantifier = true;
            }
            else
            {
                sb.Append(c);
            }
            lastWasQuantifier = quantifier;
        }
        return sb.ToString();
    }
}
