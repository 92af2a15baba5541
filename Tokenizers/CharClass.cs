using System.Globalization;

namespace OrleansLlm.Tokenizers;

/// <summary>
/// Unicode classes the pre-tokenizer patterns use, looked up per code point. BMP answers come from a
/// 64 KiB table built once; astral code points ask <see cref="CharUnicodeInfo"/>.
/// </summary>
internal static class CharClass
{
    private const byte LetterBit = 1;
    private const byte NumberBit = 2;
    private const byte WhiteSpaceBit = 4;   // Unicode White_Space (what Oniguruma's \s means)
    private const byte JsSpaceBit = 8;      // ECMAScript \s (adds U+FEFF, lacks U+0085)
    private const byte DecimalDigitBit = 16;
    private const byte PunctuationBit = 32; // \p{P} plus the ASCII punctuation ranges

    private static readonly byte[] s_bmp = BuildTable();

    public static bool IsLetter(int cp) => (Flags(cp) & LetterBit) != 0;

    public static bool IsNumber(int cp) => (Flags(cp) & NumberBit) != 0;

    public static bool IsWhiteSpace(int cp) => (Flags(cp) & WhiteSpaceBit) != 0;

    public static bool IsJsSpace(int cp) => (Flags(cp) & JsSpaceBit) != 0;

    public static bool IsDecimalDigit(int cp) => (Flags(cp) & DecimalDigitBit) != 0;

    public static bool IsPunctuation(int cp) => (Flags(cp) & PunctuationBit) != 0;

    /// <summary>ECMAScript String.prototype.trim's whitespace: WhiteSpace plus LineTerminator.</summary>
    public static bool IsJsTrimSpace(char c) => (Flags(c) & JsSpaceBit) != 0;

    public static string JsTrim(string s) => Keep(s, s.AsSpan().Trim(JsTrimChars));

    public static string JsTrimStart(string s) => Keep(s, s.AsSpan().TrimStart(JsTrimChars));

    public static string JsTrimEnd(string s) => Keep(s, s.AsSpan().TrimEnd(JsTrimChars));

    private static string Keep(string s, ReadOnlySpan<char> trimmed) => trimmed.Length == s.Length ? s : new string(trimmed);

    private const string JsTrimChars =
        "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff";

    /// <summary>Reads the code point at <paramref name="i"/>; a lone surrogate reads as itself (one unit).</summary>
    public static int CodePointAt(ReadOnlySpan<char> s, int i, out int width)
    {
        char c = s[i];
        if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
        {
            width = 2;
            return char.ConvertToUtf32(c, s[i + 1]);
        }
        width = 1;
        return c;
    }

    private static byte Flags(int cp) => cp < 0x10000 ? s_bmp[cp] : Compute(cp);

    private static byte Compute(int cp)
    {
        byte flags = 0;
        UnicodeCategory category = cp is >= 0xD800 and <= 0xDFFF
            ? UnicodeCategory.Surrogate
            : CharUnicodeInfo.GetUnicodeCategory(cp);
        switch (category)
        {
            case UnicodeCategory.UppercaseLetter:
            case UnicodeCategory.LowercaseLetter:
            case UnicodeCategory.TitlecaseLetter:
            case UnicodeCategory.ModifierLetter:
            case UnicodeCategory.OtherLetter:
                flags |= LetterBit;
                break;
            case UnicodeCategory.DecimalDigitNumber:
                flags |= NumberBit | DecimalDigitBit;
                break;
            case UnicodeCategory.LetterNumber:
            case UnicodeCategory.OtherNumber:
                flags |= NumberBit;
                break;
            case UnicodeCategory.ConnectorPunctuation:
            case UnicodeCategory.DashPunctuation:
            case UnicodeCategory.OpenPunctuation:
            case UnicodeCategory.ClosePunctuation:
            case UnicodeCategory.InitialQuotePunctuation:
            case UnicodeCategory.FinalQuotePunctuation:
            case UnicodeCategory.OtherPunctuation:
                flags |= PunctuationBit;
                break;
        }
        if (cp is >= 0x21 and <= 0x2F or >= 0x3A and <= 0x40 or >= 0x5B and <= 0x60 or >= 0x7B and <= 0x7E)
        {
            flags |= PunctuationBit;
        }
        bool whiteSpace = cp is >= 0x09 and <= 0x0D or 0x20 or 0x85 or 0xA0 or 0x1680
            or >= 0x2000 and <= 0x200A or 0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000;
        if (whiteSpace)
        {
            flags |= WhiteSpaceBit;
        }
        if ((whiteSpace && cp != 0x85) || cp == 0xFEFF)
        {
            flags |= JsSpaceBit;
        }
        return flags;
    }

    private static byte[] BuildTable()
    {
        var table = new byte[0x10000];
        for (int cp = 0; cp < table.Length; cp++)
        {
            table[cp] = Compute(cp);
        }
        return table;
    }
}
