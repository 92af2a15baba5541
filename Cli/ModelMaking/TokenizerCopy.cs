using OrleansLlm.Tokenizers;

namespace OrleansLlm.Cli.ModelMaking;

/// <summary>What make-model needs to know about a real tokenizer folder before copying it.</summary>
internal sealed record TokenizerSummary(string Directory, int MaxTokenId, int? BosTokenId, int? EosTokenId);

/// <summary>Checks and copies a real Hugging Face tokenizer folder (tokenizer.json,
/// tokenizer_config.json and, when present, special_tokens_map.json). Reading the files is
/// <see cref="TokenizerFiles"/>' job, the same code the tokenizer loads them with.</summary>
internal static class TokenizerCopy
{
    /// <summary>Finds the largest id (model vocabulary and added tokens) and the ids of the
    /// bos/eos tokens that tokenizer_config.json (or special_tokens_map.json) names.</summary>
    public static TokenizerSummary Inspect(string directory)
    {
        if (!System.IO.Directory.Exists(directory))
        {
            throw new ModelMakingException($"tokenizer folder '{directory}' does not exist");
        }
        foreach (string required in new[] { TokenizerFiles.TokenizerFileName, TokenizerFiles.ConfigFileName })
        {
            if (!File.Exists(Path.Combine(directory, required)))
            {
                throw new ModelMakingException($"tokenizer folder '{directory}' has no {required}");
            }
        }

        string tokenizerPath = Path.Combine(directory, TokenizerFiles.TokenizerFileName);
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        int maxId = -1;
        int? bos;
        int? eos;
        try
        {
            using var files = TokenizerFiles.Read(directory);
            foreach (var (token, id) in files.TokenIds())
            {
                ids[token] = id; // an added token with the text of a vocabulary token takes its place
                maxId = Math.Max(maxId, id);
            }
            bos = TokenId(files.SpecialToken("bos_token"), ids);
            eos = TokenId(files.SpecialToken("eos_token"), ids);
        }
        catch (TokenizerException e)
        {
            throw new ModelMakingException(e.Message, e);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or FormatException or KeyNotFoundException or IndexOutOfRangeException)
        {
            throw new ModelMakingException($"{tokenizerPath} is not a valid tokenizer.json: {e.Message}", e);
        }
        if (maxId < 0)
        {
            throw new ModelMakingException($"{tokenizerPath} has no vocabulary (model.vocab) and no added tokens");
        }
        return new TokenizerSummary(directory, maxId, bos, eos);
    }

    /// <summary>The id of a special token; null when it is not named or not in the vocabulary.</summary>
    private static int? TokenId(string? content, Dictionary<string, int> ids) =>
        content is not null && ids.TryGetValue(content, out int id) ? id : null;

    /// <summary>Fails unless every id of the tokenizer has a row in the embedding matrix.</summary>
    public static void CheckFits(TokenizerSummary tokenizer, ModelPreset preset)
    {
        if (tokenizer.MaxTokenId >= preset.VocabSize)
        {
            throw new ModelMakingException(
                $"the tokenizer in '{tokenizer.Directory}' has token ids up to {tokenizer.MaxTokenId}, " +
                $"but preset {preset.Name} has vocab_size {preset.VocabSize}; use a preset whose vocabulary covers it");
        }
    }

    /// <summary>bos/eos from the tokenizer's special tokens; where it names none, the preset's id
    /// if the tokenizer has that id, else none.</summary>
    public static SpecialTokenIds TokenIds(TokenizerSummary tokenizer, ModelPreset preset)
    {
        int? Fallback(int presetId) => presetId <= tokenizer.MaxTokenId ? presetId : null;
        return new SpecialTokenIds(
            tokenizer.BosTokenId ?? Fallback(preset.BosTokenId),
            tokenizer.EosTokenId ?? Fallback(preset.EosTokenId));
    }

    /// <summary>Copies the tokenizer files (generation_config.json is not among them: make-model writes its own).</summary>
    public static void Copy(TokenizerSummary tokenizer, string outDirectory)
    {
        foreach (string name in new[] { TokenizerFiles.TokenizerFileName, TokenizerFiles.ConfigFileName, TokenizerFiles.SpecialTokensMapFileName })
        {
            string source = Path.Combine(tokenizer.Directory, name);
            if (File.Exists(source))
            {
                File.Copy(source, Path.Combine(outDirectory, name), overwrite: true);
            }
        }
    }
}
