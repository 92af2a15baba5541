namespace OrleansLlm.Cli.ModelMaking;

/// <summary>GPT-2's byte-to-unicode table used by byte-level BPE: printable Latin-1 bytes
/// ('!'..'~', '¡'..'¬', '®'..'ÿ') stand for themselves; the other 68 bytes map, in byte order,
/// to U+0100 onwards (so the space 0x20 is 'Ġ' U+0120 and the newline 0x0A is 'Ċ' U+010A).</summary>
internal static class ByteLevelAlphabet
{
    private static readonly char[] _symbols = BuildSymbols();

    public static char Symbol(byte value) => _symbols[value];

    private static char[] BuildSymbols()
    {
        var symbols = new char[256];
        int next = 0;
        for (int b = 0; b < 256; b++)
        {
            bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            symbols[b] = printable ? (char)b : (char)(256 + next++);
        }
        return symbols;
    }
}
