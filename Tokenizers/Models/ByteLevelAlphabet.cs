namespace OrleansLlm.Tokenizers.Models;

/// <summary>
/// GPT-2's reversible byte ↔ character map: printable Latin-1 bytes map to themselves, the other
/// 68 bytes to U+0100.. in byte order, so every byte string is a string of visible characters.
/// </summary>
internal static class ByteLevelAlphabet
{
    public static readonly char[] ByteToChar = Build();

    /// <summary>Byte for each character code below U+0144, or -1.</summary>
    public static readonly short[] CharToByte = BuildReverse();

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
