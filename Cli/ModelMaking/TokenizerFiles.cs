using System.Text.Json;

namespace OrleansLlm.Cli.ModelMaking;

/// <summary>What make-model needs to know about a real tokenizer folder before copying it.</summary>
internal sealed record TokenizerSummary(string Directory, int MaxTokenId, int? BosTokenId, int? EosTokenId);

/// <summary>Reads, checks and copies a real Hugging Face tokenizer folder (tokenizer.json,
/// tokenizer_config.json and, when present, special_tokens_map.json).</summary>
internal static class TokenizerFiles
{
    public const string TokenizerJson = "tokenizer.json";
    public const string TokenizerConfigJson = "tokenizer_config.json";
    public const string SpecialTokensMapJson = "special_tokens_map.json";

    /// <summary>Finds the largest id (model vocabulary and added tokens) and the ids of the
    /// bos/eos tokens that tokenizer_config.json names.</summary>
    public static TokenizerSummary Inspect(string directory)
    {
        string tokenizerPath = Path.Combine(directory, TokenizerJson);
        string configPath = Path.Combine(directory, TokenizerConfigJson);
        if (!System.IO.Directory.Exists(directory))
        {
            throw new ModelMakingException($"tokenizer folder '{directory}' does not exist");
        }
        foreach (string required in new[] { tokenizerPath, configPath })
        {
            if (!File.Exists(required))
            {
                throw new ModelMakingException($"tokenizer folder '{directory}' has no {Path.GetFileName(required)}");
            }
        }

        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        int maxId = -1;
        try
        {
            using var stream = File.OpenRead(tokenizerPath);
            using var tokenizer = JsonDocument.Parse(stream);
            var root = tokenizer.RootElement;
            if (root.TryGetProperty("model", out var model) && model.TryGetProperty("vocab", out var vocab))
            {
                if (vocab.ValueKind == JsonValueKind.Object)
                {
                    foreach (var entry in vocab.EnumerateObject())
                    {
                        int id = entry.Value.GetInt32();
                        ids.TryAdd(entry.Name, id);
                        maxId = Math.Max(maxId, id);
                    }
                }
                else if (vocab.ValueKind == JsonValueKind.Array)
                {
                    // Unigram: [piece, score] pairs whose index is the id.
                    int id = 0;
                    foreach (var entry in vocab.EnumerateArray())
                    {
                        ids.TryAdd(entry[0].GetString() ?? "", id);
                        maxId = Math.Max(maxId, id++);
                    }
                }
            }
            if (root.TryGetProperty("added_tokens", out var added) && added.ValueKind == JsonValueKind.Array)
            {
                foreach (var token in added.EnumerateArray())
                {
                    int id = token.GetProperty("id").GetInt32();
                    ids[token.GetProperty("content").GetString() ?? ""] = id;
                    maxId = Math.Max(maxId, id);
                }
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or KeyNotFoundException)
        {
            throw new ModelMakingException($"{tokenizerPath} is not a valid tokenizer.json: {e.Message}", e);
        }
        if (maxId < 0)
        {
            throw new ModelMakingException($"{tokenizerPath} has no vocabulary (model.vocab) and no added tokens");
        }

        int? bos;
        int? eos;
        try
        {
            using var stream = File.OpenRead(configPath);
            using var config = JsonDocument.Parse(stream);
            bos = TokenId(config.RootElement, "bos_token", ids);
            eos = TokenId(config.RootElement, "eos_token", ids);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new ModelMakingException($"{configPath} is not valid JSON: {e.Message}", e);
        }
        return new TokenizerSummary(directory, maxId, bos, eos);
    }

    /// <summary>The id of a special token named in tokenizer_config.json, as a string or as
    /// {"content": ...}; null when it is absent, null, or not in the vocabulary.</summary>
    private static int? TokenId(JsonElement config, string key, Dictionary<string, int> ids)
    {
        if (!config.TryGetProperty(key, out var value))
        {
            return null;
        }
        string? content = value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Object when value.TryGetProperty("content", out var c) => c.GetString(),
            _ => null,
        };
        return content is not null && ids.TryGetValue(content, out int id) ? id : null;
    }

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

    public static void Copy(TokenizerSummary tokenizer, string outDirectory)
    {
        foreach (string name in new[] { TokenizerJson, TokenizerConfigJson, SpecialTokensMapJson })
        {
            string source = Path.Combine(tokenizer.Directory, name);
            if (File.Exists(source))
            {
                File.Copy(source, Path.Combine(outDirectory, name), overwrite: true);
            }
        }
    }
}
