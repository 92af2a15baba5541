using System.Text.Json;

namespace OrleansLlm.Tokenizers;

/// <summary>One added token of tokenizer.json (special or not).</summary>
/// <param name="Id">Token id.</param>
/// <param name="Content">Exact text of the token.</param>
/// <param name="Special">Whether decoding with skip_special_tokens drops it.</param>
/// <param name="Normalized">Whether it is matched in normalized rather than raw text.</param>
/// <param name="LStrip">Whether whitespace before it is removed when it is matched.</param>
/// <param name="RStrip">Whether whitespace after it is removed when it is matched.</param>
public sealed record AddedToken(int Id, string Content, bool Special, bool Normalized, bool LStrip, bool RStrip)
{
    /// <summary>The added_tokens array of tokenizer.json, in file order (empty when absent).</summary>
    internal static List<AddedToken> ReadAll(JsonElement root)
    {
        var tokens = new List<AddedToken>();
        var added = root.Property("added_tokens");
        if (added.ValueKind != JsonValueKind.Array)
        {
            return tokens;
        }
        foreach (var token in added.EnumerateArray())
        {
            bool special = token.OptionalBool("special", false);
            tokens.Add(new AddedToken(
                token.Property("id").GetInt32(),
                token.RequiredString("content", "added token"),
                special,
                token.OptionalBool("normalized", !special),
                token.OptionalBool("lstrip", false),
                token.OptionalBool("rstrip", false)));
        }
        return tokens;
    }
}
