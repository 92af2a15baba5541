using System.Text;

namespace OrleansLlm.Tokenizers;

/// <summary>
/// GPT-2's reversible byte ↔ character map used by byte-level BPE vocabularies: printable Latin-1
/// bytes ('!'..'~', '¡'..'¬', '®'..'ÿ') stand for themselves, the other 68 bytes map, in byte
/// order, to U+0100 onwards (so the space 0x20 is 'Ġ' U+0120 and the newline 0x0A is 'Ċ' U+010A).
/// Every byte string is thus a string of visible characters. The one copy of the table: the
/// tokenizer, the decoder, model making's synthetic tokenizer and the benchmark all use it.
/// </summary>
public static class ByteLevelAlphabet
{
    /// <summary>[byte] → its character (hot paths index it directly).</summary>
    internal static readonly char[] ByteToChar = Build();

    /// <summary>[character code below U+0144] → its byte, or -1.</summary>
    internal static readonly short[] CharToByte = BuildReverse();

    /// <summary>The character that stands for <paramref name="value"/>.</summary>
    public static char Symbol(byte value) => ByteToChar[value];

    /// <summary>The byte <paramref name="symbol"/> stands for; false for characters outside the alphabet.</summary>
    public static bool TryGetByte(char symbol, out byte value)
    {
        int b = symbol < CharToByte.Length ? CharToByte[symbol] : -1;
        value = (byte)Math.Max(b, 0);
        return b >= 0;
    }

    /// <summary>The byte-level string of UTF-8 (or any) bytes, as vocabularies store tokens.</summary>
    public static string ToSymbols(ReadOnlySpan<byte> bytes)
    {
        var text = new StringBuilder(bytes.Length);
        foreach (byte b in bytes)
        {
            text.Append(ByteToChar[b]);
        }
        return text.ToString();
    }

    /// <summary>The bytes a byte-level token stands for; null when a character is outside the alphabet (e.g. an added token).</summary>
    public static byte[]? ToBytes(ReadOnlySpan<char> symbols)
    {
        var bytes = new byte[symbols.Length];
        for (int i = 0; i < symbols.Length; i++)
        {
            if (!TryGetByte(symbols[i], out bytes[i]))
            {
                return null;
            }
        }
        return bytes;
    }

    private static char[] Build()
    {
        var map = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++)
        {
            bool printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            map[b] = printable ? (char)b : (char)next++;
        }
        return map;
    }

    private static short[] BuildReverse()
    {
        var reverse = new short[0x144];
        Array.Fill(reverse, (short)-1);
        for (int b = 0; b < 256; b++)
        {
            reverse[ByteToChar[b]] = (short)b;
        }
        return reverse;
    }
}
