namespace OrleansLlm.Tokenizers;

/// <summary>
/// clean_up_tokenization_spaces of tokenizer_config.json. Every pattern starts with a space and uses
/// only spaces, punctuation and the letters n t m s v e r, which the incremental detokenizer relies
/// on to hold back as little text as possible.
/// </summary>
internal static class TokenizationSpaces
{
    /// <summary>The reference's clean_up_tokenization: removes the space before punctuation and contractions.</summary>
    public static string Apply(string text) => text
        .Replace(" .", ".", StringComparison.Ordinal)
        .Replace(" ?", "?", StringComparison.Ordinal)
        .Replace(" !", "!", StringComparison.Ordinal)
        .Replace(" ,", ",", StringComparison.Ordinal)
        .Replace(" ' ", "'", StringComparison.Ordinal)
        .Replace(" n't", "n't", StringComparison.Ordinal)
        .Replace(" 'm", "'m", StringComparison.Ordinal)
        .Replace(" 's", "'s", StringComparison.Ordinal)
        .Replace(" 've", "'ve", StringComparison.Ordinal)
        .Replace(" 're", "'re", StringComparison.Ordinal);
}
