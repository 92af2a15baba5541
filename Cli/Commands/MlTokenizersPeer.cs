using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;
using OrleansLlm.Tokenizers;

namespace OrleansLlm.Cli.Commands;

/// <summary>
/// Microsoft.ML.Tokenizers' <see cref="TiktokenTokenizer"/> built from the same tokenizer.json as
/// the tokenizer under test, the second peer of `bench tokenizer`. Tiktoken ranks merges by the
/// merged token's id, which equals the merges order for tiktoken-derived vocabularies (Llama 3,
/// GPT-4 style): every model token becomes a "base64(bytes) id" line, the pre-tokenizer's Split
/// regex (GPT-2's for a bare ByteLevel) becomes a <see cref="RegexPreTokenizer"/>, and the added
/// tokens are its special tokens. Byte-level BPE only; whether its ids are identical is measured,
/// not assumed.
/// </summary>
internal static class MlTokenizersPeer
{
    private const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    /// <summary>The peer, or null with the reason when the tokenizer is not byte-level BPE with a regex pre-tokenizer.</summary>
    public static (Tokenizer? Tokenizer, string? Reason) TryCreate(string tokenizerDir)
    {
        using var files = TokenizerFiles.Read(tokenizerDir);
        var root = files.Tokenizer.RootElement;
        if (!root.TryGetProperty("model", out var model) || model.GetProperty("type").GetString() != "BPE")
        {
            return (null, "not a BPE model");
        }
        string? pattern = root.TryGetProperty("pre_tokenizer", out var pre) ? FindPattern(pre) : null;
        if (pattern is null)
        {
            return (null, "no byte-level pre-tokenizer with a regex (tiktoken needs one)");
        }
        var special = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var added in root.GetProperty("added_tokens").EnumerateArray())
        {
            special[added.GetProperty("content").GetString()!] = added.GetProperty("id").GetInt32();
        }
        var vocab = new StringBuilder();
        foreach (var entry in model.GetProperty("vocab").EnumerateObject())
        {
            if (special.ContainsKey(entry.Name))
            {
                continue;
            }
            byte[]? bytes = ByteLevelAlphabet.ToBytes(entry.Name);
            if (bytes is null)
            {
                return (null, $"vocabulary token \"{entry.Name}\" is not byte-level");
            }
            vocab.Append(Convert.ToBase64String(bytes)).Append(' ').Append(entry.Value.GetInt32()).Append('\n');
        }
        var preTokenizer = new RegexPreTokenizer(new Regex(pattern, RegexOptions.Compiled), special);
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(vocab.ToString()));
        return (TiktokenTokenizer.Create(stream, preTokenizer, normalizer: null, special), null);
    }

    private static string? FindPattern(JsonElement pre)
    {
        string? type = pre.ValueKind == JsonValueKind.Object && pre.TryGetProperty("type", out var t) ? t.GetString() : null;
        switch (type)
        {
            case "Sequence":
                bool byteLevel = false;
                string? regex = null;
                foreach (var item in pre.GetProperty("pretokenizers").EnumerateArray())
                {
                    string? itemType = item.GetProperty("type").GetString();
                    if (itemType == "ByteLevel")
                    {
                        byteLevel = true;
                        regex ??= item.TryGetProperty("use_regex", out var u) && u.ValueKind == JsonValueKind.False ? null : Gpt2Pattern;
                    }
                    else if (itemType == "Split" && item.GetProperty("pattern").TryGetProperty("Regex", out var r))
                    {
                        regex = r.GetString();
                    }
                }
                return byteLevel ? regex : null;
            case "ByteLevel":
                return pre.TryGetProperty("use_regex", out var useRegex) && useRegex.ValueKind == JsonValueKind.False ? null : Gpt2Pattern;
            default:
                return null;
        }
    }
}
