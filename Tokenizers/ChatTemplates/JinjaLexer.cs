using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace OrleansLlm.Tokenizers.ChatTemplates;

internal enum TokenKind
{
    Text,
    NumericLiteral,
    StringLiteral,
    Identifier,
    Equals,
    OpenParen,
    CloseParen,
    OpenStatement,
    CloseStatement,
    OpenExpression,
    CloseExpression,
    OpenSquareBracket,
    CloseSquareBracket,
    OpenCurlyBracket,
    CloseCurlyBracket,
    Comma,
    Dot,
    Colon,
    Pipe,
    AdditiveOperator,
    MultiplicativeOperator,
    ExponentiationOperator,
    ComparisonOperator,
    UnaryOperator,
    Comment,
}

/// <summary>A lexical token and where it starts in the (preprocessed) template.</summary>
internal sealed record JinjaToken(string Value, TokenKind Kind, int Position);

/// <summary>
/// Splits a chat template into text, tags and expression tokens. Like transformers, blocks are
/// rendered with trim_blocks and lstrip_blocks, and <c>{%-</c>/<c>-%}</c> strip whitespace.
/// </summary>
internal static partial class JinjaLexer
{
    private static readonly (string Text, TokenKind Kind)[] s_symbols =
    [
        ("{%", TokenKind.OpenStatement), ("%}", TokenKind.CloseStatement),
        ("{{", TokenKind.OpenExpression), ("}}", TokenKind.CloseExpression),
        ("(", TokenKind.OpenParen), (")", TokenKind.CloseParen),
        ("{", TokenKind.OpenCurlyBracket), ("}", TokenKind.CloseCurlyBracket),
        ("[", TokenKind.OpenSquareBracket), ("]", TokenKind.CloseSquareBracket),
        (",", TokenKind.Comma), (".", TokenKind.Dot), (":", TokenKind.Colon), ("|", TokenKind.Pipe),
        ("<=", TokenKind.ComparisonOperator), (">=", TokenKind.ComparisonOperator),
        ("==", TokenKind.ComparisonOperator), ("!=", TokenKind.ComparisonOperator),
        ("<", TokenKind.ComparisonOperator), (">", TokenKind.ComparisonOperator),
        ("+", TokenKind.AdditiveOperator), ("-", TokenKind.AdditiveOperator), ("~", TokenKind.AdditiveOperator),
        ("**", TokenKind.ExponentiationOperator),
        ("*", TokenKind.MultiplicativeOperator), ("//", TokenKind.MultiplicativeOperator),
        ("/", TokenKind.MultiplicativeOperator), ("%", TokenKind.MultiplicativeOperator),
        ("=", TokenKind.Equals),
    ];

    [GeneratedRegex(@"^[ \t]*(\{[#%-])", RegexOptions.Multiline)]
    private static partial Regex LeadingBlockWhitespace();

    [GeneratedRegex(@"([#%-]\})\n")]
    private static partial Regex NewlineAfterBlock();

    [GeneratedRegex(@"(\s*)\{%(-?)\s*(?:end)?generation\s*(-?)%\}(\s*)", RegexOptions.Singleline)]
    private static partial Regex GenerationTag();

    public static string Preprocess(string template)
    {
        if (template.EndsWith('\n'))
        {
            template = template[..^1];
        }
        template = LeadingBlockWhitespace().Replace(template, "$1");
        template = NewlineAfterBlock().Replace(template, "$1");
        return GenerationTag().Replace(template, m =>
            (m.Groups[2].Value.Length > 0 ? "" : m.Groups[1].Value) + (m.Groups[3].Value.Length > 0 ? "" : m.Groups[4].Value));
    }

    public static List<JinjaToken> Tokenize(string src)
    {
        var tokens = new List<JinjaToken>();
        int pos = 0;
        int curlyDepth = 0;
        while (pos < src.Length)
        {
            var lastKind = tokens.Count > 0 ? tokens[^1].Kind : (TokenKind?)null;
            if (lastKind is null or TokenKind.CloseStatement or TokenKind.CloseExpression or TokenKind.Comment)
            {
                int start = pos;
                while (pos < src.Length && !(src[pos] == '{' && pos + 1 < src.Length && src[pos + 1] is '%' or '{' or '#'))
                {
                    pos++;
                }
                if (pos > start)
                {
                    tokens.Add(new JinjaToken(src[start..pos], TokenKind.Text, start));
                    continue;
                }
            }
            if (At(src, pos, "{#"))
            {
                int start = pos;
                pos += 2;
                bool stripBefore = pos < src.Length && src[pos] == '-';
                if (stripBefore)
                {
                    pos++;
                }
                int end = src.IndexOf("#}", pos, StringComparison.Ordinal);
                if (end < 0)
                {
                    throw Error("Missing end of comment tag", start, src);
                }
                string comment = src[pos..end];
                bool stripAfter = comment.EndsWith('-');
                if (stripBefore)
                {
                    StripTrailingWhitespace(tokens);
                }
                tokens.Add(new JinjaToken(stripAfter ? comment[..^1] : comment, TokenKind.Comment, start));
                pos = end + 2;
                if (stripAfter)
                {
                    pos = SkipWhitespace(src, pos);
                }
                continue;
            }
            if (At(src, pos, "{%-"))
            {
                StripTrailingWhitespace(tokens);
                tokens.Add(new JinjaToken("{%", TokenKind.OpenStatement, pos));
                pos += 3;
                continue;
            }
            if (At(src, pos, "{{-"))
            {
                StripTrailingWhitespace(tokens);
                tokens.Add(new JinjaToken("{{", TokenKind.OpenExpression, pos));
                curlyDepth = 0;
                pos += 3;
                continue;
            }
            pos = SkipWhitespace(src, pos);
            if (pos >= src.Length)
            {
                break;
            }
            if (At(src, pos, "-%}"))
            {
                tokens.Add(new JinjaToken("%}", TokenKind.CloseStatement, pos));
                pos = SkipWhitespace(src, pos + 3);
                continue;
            }
            if (At(src, pos, "-}}"))
            {
                tokens.Add(new JinjaToken("}}", TokenKind.CloseExpression, pos));
                pos = SkipWhitespace(src, pos + 3);
                continue;
            }
            char c = src[pos];
            if (c is '-' or '+')
            {
                var previous = tokens.Count > 0 ? tokens[^1].Kind : (TokenKind?)null;
                if (previous is null or TokenKind.Text)
                {
                    throw Error($"Unexpected character '{c}'", pos, src);
                }
                if (previous is not (TokenKind.Identifier or TokenKind.NumericLiteral or TokenKind.StringLiteral
                    or TokenKind.CloseParen or TokenKind.CloseSquareBracket))
                {
                    int start = pos++;
                    string number = ReadDigits(src, ref pos);
                    if (number.Length > 0 && pos + 1 < src.Length && src[pos] == '.' && char.IsAsciiDigit(src[pos + 1]))
                    {
                        pos++;
                        number += "." + ReadDigits(src, ref pos);
                    }
                    tokens.Add(new JinjaToken(c + number, number.Length > 0 ? TokenKind.NumericLiteral : TokenKind.UnaryOperator, start));
                    continue;
                }
            }
            bool matched = false;
            foreach (var (text, kind) in s_symbols)
            {
                if (text == "}}" && curlyDepth > 0)
                {
                    continue;
                }
                if (At(src, pos, text))
                {
                    tokens.Add(new JinjaToken(text, kind, pos));
                    if (kind == TokenKind.OpenExpression)
                    {
                        curlyDepth = 0;
                    }
                    else if (kind == TokenKind.OpenCurlyBracket)
                    {
                        curlyDepth++;
                    }
                    else if (kind == TokenKind.CloseCurlyBracket)
                    {
                        curlyDepth--;
                    }
                    pos += text.Length;
                    matched = true;
                    break;
                }
            }
            if (matched)
            {
                continue;
            }
            if (c is '\'' or '"')
            {
                int start = pos++;
                string value = ReadString(src, ref pos, c);
                tokens.Add(new JinjaToken(value, TokenKind.StringLiteral, start));
                continue;
            }
            if (char.IsAsciiDigit(c))
            {
                int start = pos;
                string number = ReadDigits(src, ref pos);
                if (tokens.Count > 0 && tokens[^1].Kind != TokenKind.Dot && pos + 1 < src.Length && src[pos] == '.' && char.IsAsciiDigit(src[pos + 1]))
                {
                    pos++;
                    number += "." + ReadDigits(src, ref pos);
                }
                tokens.Add(new JinjaToken(number, TokenKind.NumericLiteral, start));
                continue;
            }
            if (IsWord(c))
            {
                int start = pos;
                while (pos < src.Length && IsWord(src[pos]))
                {
                    pos++;
                }
                tokens.Add(new JinjaToken(src[start..pos], TokenKind.Identifier, start));
                continue;
            }
            throw Error($"Unexpected character '{c}'", pos, src);
        }
        return tokens;
    }

    /// <summary>"line L, column C" of a position in the preprocessed template.</summary>
    public static string Where(string src, int position)
    {
        position = Math.Clamp(position, 0, src.Length);
        int line = 1;
        int lineStart = 0;
        for (int i = 0; i < position; i++)
        {
            if (src[i] == '\n')
            {
                line++;
                lineStart = i + 1;
            }
        }
        return string.Create(CultureInfo.InvariantCulture, $"line {line}, column {position - lineStart + 1}");
    }

    public static TokenizerException Error(string message, int position, string src) =>
        new($"Chat template syntax error at {Where(src, position)}: {message}");

    private static bool IsWord(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';

    private static bool At(string src, int pos, string text) => string.CompareOrdinal(src, pos, text, 0, text.Length) == 0;

    private static int SkipWhitespace(string src, int pos)
    {
        while (pos < src.Length && CharClass.IsJsSpace(src[pos]))
        {
            pos++;
        }
        return pos;
    }

    private static string ReadDigits(string src, ref int pos)
    {
        int start = pos;
        while (pos < src.Length && char.IsAsciiDigit(src[pos]))
        {
            pos++;
        }
        return src[start..pos];
    }

    private static string ReadString(string src, ref int pos, char quote)
    {
        int start = pos;
        var sb = new StringBuilder();
        while (true)
        {
            if (pos >= src.Length)
            {
                throw Error("Unterminated string literal", start - 1, src);
            }
            char c = src[pos];
            if (c == quote)
            {
                pos++;
                return sb.ToString();
            }
            if (c != '\\')
            {
                sb.Append(c);
                pos++;
                continue;
            }
            if (++pos >= src.Length)
            {
                throw Error("Unexpected end of input in string literal", start - 1, src);
            }
            char escaped = src[pos++];
            if (escaped is 'x' or 'u')
            {
                int length = escaped == 'x' ? 2 : 4;
                if (pos + length > src.Length || !int.TryParse(src.AsSpan(pos, length), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int code))
                {
                    throw Error($"Invalid hexadecimal escape sequence \\{escaped}", pos - 2, src);
                }
                sb.Append((char)code);
                pos += length;
                continue;
            }
            sb.Append(escaped switch
            {
                'n' => '\n',
                't' => '\t',
                'r' => '\r',
                'b' => '\b',
                'f' => '\f',
                'v' => '\v',
                '\'' => '\'',
                '"' => '"',
                '\\' => '\\',
                _ => throw Error($"Unexpected escaped character '{escaped}'", pos - 2, src),
            });
        }
    }

    private static void StripTrailingWhitespace(List<JinjaToken> tokens)
    {
        if (tokens.Count > 0 && tokens[^1].Kind == TokenKind.Text)
        {
            string trimmed = CharClass.JsTrimEnd(tokens[^1].Value);
            if (trimmed.Length == 0)
            {
                tokens.RemoveAt(tokens.Count - 1);
            }
            else
            {
                tokens[^1] = tokens[^1] with { Value = trimmed };
            }
        }
    }
}
