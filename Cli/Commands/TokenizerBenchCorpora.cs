using System.Text;
using System.Text.Json.Nodes;

namespace OrleansLlm.Cli.Commands;

/// <summary>
/// The two corpora of `bench tokenizer`, both deterministic (seeded) and cut into ~4 KB documents.
/// Natural: reference corpus texts interleaved with generated words, so caches do not see only
/// repeats. Repetitive: the inputs that make BPE slow rather than the common case: long runs of one
/// letter, short patterns repeated ("ab"×n), long digit runs and whitespace runs, whose words are
/// long (uncached) and merge the same pair over and over.
/// </summary>
internal static class TokenizerBenchCorpora
{
    private const int DocumentChars = 4000;

    public static List<string> Natural(string textsPath, long targetBytes)
    {
        var texts = File.ReadAllLines(textsPath).Where(l => l.Length > 0)
            .Select(l => JsonNode.Parse(l)!["text"]!.GetValue<string>()).ToArray();
        string[] syllables = ["ka", "lo", "mi", "ne", "tor", "van", "si", "qu", "bel", "dra", "ex", "po", "ru", "zen", "ath", "ing", "ion", "ur"];
        var random = new Random(20261122);
        return Documents(targetBytes, sb =>
        {
            if (random.NextDouble() < 0.6)
            {
                sb.Append(texts[random.Next(texts.Length)]);
            }
            else
            {
                int words = random.Next(5, 40);
                for (int w = 0; w < words; w++)
                {
                    int parts = random.Next(1, 4);
                    for (int p = 0; p < parts; p++)
                    {
                        sb.Append(syllables[random.Next(syllables.Length)]);
                    }
                    sb.Append(random.Next(10) == 0 ? ", " : " ");
                }
                sb.Append(random.Next(1000)).Append(". ");
            }
            sb.Append(random.Next(4) == 0 ? "\n" : " ");
        });
    }

    public static List<string> Repetitive(long targetBytes)
    {
        const string letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZéЖ中";
        string[] patterns = ["ab", "abc", "xy", "ha", "la", "ab ", "-=", "..", "0x", "na", "🎉", "\t "];
        string[] whitespace = [" ", "\t", "\n", "\r\n", " \n", "\u3000"];
        var random = new Random(20261203);
        return Documents(targetBytes, sb =>
        {
            switch (random.Next(4))
            {
                case 0: // a run of one letter: 300 'a's is one word that merges a token with itself
                    sb.Append(letters[random.Next(letters.Length)], random.Next(10, 1500));
                    break;
                case 1: // a short pattern repeated: "abab…"
                    string pattern = patterns[random.Next(patterns.Length)];
                    for (int i = random.Next(5, 600); i > 0; i--)
                    {
                        sb.Append(pattern);
                    }
                    break;
                case 2: // a long number: one digit repeated, or digits in order
                    int length = random.Next(20, 1200);
                    char digit = (char)('0' + random.Next(10));
                    bool same = random.Next(2) == 0;
                    for (int i = 0; i < length; i++)
                    {
                        sb.Append(same ? digit : (char)('0' + i % 10));
                    }
                    break;
                default: // a whitespace run
                    string space = whitespace[random.Next(whitespace.Length)];
                    for (int i = random.Next(10, 800); i > 0; i--)
                    {
                        sb.Append(space);
                    }
                    break;
            }
            sb.Append(random.Next(3) == 0 ? "\n" : " ");
        });
    }

    private static List<string> Documents(long targetBytes, Action<StringBuilder> appendChunk)
    {
        var documents = new List<string>();
        long total = 0;
        var sb = new StringBuilder();
        while (total < targetBytes)
        {
            sb.Clear();
            while (sb.Length < DocumentChars)
            {
                appendChunk(sb);
            }
            string document = sb.ToString();
            documents.Add(document);
            total += Encoding.UTF8.GetByteCount(document);
        }
        return documents;
    }
}
