using System.Text.Json;
using System.Text.Json.Nodes;
using OrleansLlm.Gguf;

namespace OrleansLlm.Tokenizers.Gguf;

/// <summary>
/// A GGUF file's tokenizer metadata as the tokenizer.json, tokenizer_config.json and
/// generation_config.json that mean the same, so a .gguf tokenizer loads through the one
/// tokenizer.json path. gpt2 models become byte-level BPE with the pre-tokenizer of
/// `tokenizer.ggml.pre`; llama models become SentencePiece-style BPE (▁ for spaces, byte fallback,
/// merges rebuilt from the scores). Control, unknown and user-defined tokens become added tokens
/// (user-defined ones not special); unused tokens (llama.cpp's padding ids) get no string.
/// GGUF has no clean_up_tokenization_spaces: decoding does no clean-up, as in llama.cpp.
/// </summary>
internal static class GgufTokenizerFiles
{
    public static TokenizerFiles Create(GgufMetadata metadata, string path)
    {
        string model = metadata.GetString(GgufTokenizerKeys.Model)
            ?? throw new TokenizerException($"GGUF file \"{path}\" has no tokenizer ({GgufTokenizerKeys.Model} is missing)");
        string[] tokens = metadata.GetArray<string>(GgufTokenizerKeys.Tokens)
            ?? throw new TokenizerException($"GGUF file \"{path}\" has no {GgufTokenizerKeys.Tokens}");
        var types = TokenTypes(metadata, tokens.Length, path);

        var tokenizer = model switch
        {
            GgufTokenizerKeys.Gpt2Model => ByteLevelTokenizer(metadata, tokens, types, path),
            GgufTokenizerKeys.LlamaModel => SentencePieceTokenizer(metadata, tokens, types, path),
            _ => throw new TokenizerException(
                $"GGUF file \"{path}\" has tokenizer model \"{model}\"; only \"gpt2\" and \"llama\" are supported"),
        };

        int? bos = TokenId(metadata, GgufTokenizerKeys.BosTokenId, tokens.Length);
        int? eos = TokenId(metadata, GgufTokenizerKeys.EosTokenId, tokens.Length);
        bool addBos = metadata.GetBool(GgufTokenizerKeys.AddBosToken) ?? false;
        bool addEos = metadata.GetBool(GgufTokenizerKeys.AddEosToken) ?? false;
        tokenizer["post_processor"] = PostProcessor(addBos ? bos : null, addEos ? eos : null, tokens);
        tokenizer["added_tokens"] = AddedTokens(tokens, types);

        var config = new JsonObject
        {
            ["clean_up_tokenization_spaces"] = false,
            ["bos_token"] = bos is int b ? tokens[b] : null,
            ["eos_token"] = eos is int e ? tokens[e] : null,
            ["unk_token"] = TokenId(metadata, GgufTokenizerKeys.UnknownTokenId, tokens.Length) is int u ? tokens[u] : null,
            ["pad_token"] = TokenId(metadata, GgufTokenizerKeys.PaddingTokenId, tokens.Length) is int p ? tokens[p] : null,
            ["chat_template"] = metadata.GetString(GgufTokenizerKeys.ChatTemplate),
        };
        var stopIds = new JsonArray();
        foreach (string key in new[] { GgufTokenizerKeys.EosTokenId, GgufTokenizerKeys.EotTokenId, GgufTokenizerKeys.EomTokenId })
        {
            if (TokenId(metadata, key, tokens.Length) is int id && !stopIds.Any(x => x!.GetValue<int>() == id))
            {
                stopIds.Add(id);
            }
        }
        var generationConfig = new JsonObject { ["eos_token_id"] = stopIds };

        var options = new JsonDocumentOptions { MaxDepth = 256 };
        return new TokenizerFiles(
            JsonDocument.Parse(tokenizer.ToJsonString(), options),
            JsonDocument.Parse(config.ToJsonString()).RootElement.Clone(),
            default,
            JsonDocument.Parse(generationConfig.ToJsonString()).RootElement.Clone());
    }

    private static JsonObject ByteLevelTokenizer(GgufMetadata metadata, string[] tokens, GgufTokenType[] types, string path)
    {
        string preName = metadata.GetString(GgufTokenizerKeys.Pre) ?? "default";
        var pre = GgufPreTokenizers.Find(preName);
        string[] merges = metadata.GetArray<string>(GgufTokenizerKeys.Merges)
            ?? throw new TokenizerException($"GGUF file \"{path}\" has a gpt2 tokenizer without {GgufTokenizerKeys.Merges}");
        var mergeArray = new JsonArray();
        foreach (string merge in merges)
        {
            mergeArray.Add(merge);
        }
        return new JsonObject
        {
            ["version"] = "1.0",
            ["normalizer"] = pre.Normalizer?.DeepClone(),
            ["pre_tokenizer"] = pre.PreTokenizer.DeepClone(),
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = true },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE",
                ["byte_fallback"] = false,
                ["ignore_merges"] = pre.IgnoreMerges,
                ["vocab"] = Vocab(tokens, types, includeAdded: false),
                ["merges"] = mergeArray,
            },
        };
    }

    private static JsonObject SentencePieceTokenizer(GgufMetadata metadata, string[] tokens, GgufTokenType[] types, string path)
    {
        float[] scores = metadata.GetArray<float>(GgufTokenizerKeys.Scores)
            ?? throw new TokenizerException($"GGUF file \"{path}\" has a llama tokenizer without {GgufTokenizerKeys.Scores}");
        if (scores.Length != tokens.Length)
        {
            throw new TokenizerException($"GGUF file \"{path}\" has {scores.Length} scores for {tokens.Length} tokens");
        }
        var pieces = tokens.Select((t, id) => types[id] == GgufTokenType.Unused ? null : t).ToArray();
        var mergeArray = new JsonArray();
        foreach (var (left, right) in SentencePieceMerges.Build(pieces, scores))
        {
            mergeArray.Add(new JsonArray(left, right));
        }
        int? unk = TokenId(metadata, GgufTokenizerKeys.UnknownTokenId, tokens.Length);
        return new JsonObject
        {
            ["version"] = "1.0",
            ["normalizer"] = SentencePieceNormalizer(),
            ["pre_tokenizer"] = null,
            ["decoder"] = SentencePieceDecoder(),
            ["model"] = new JsonObject
            {
                ["type"] = "BPE",
                ["unk_token"] = unk is int u ? tokens[u] : null,
                ["fuse_unk"] = true,
                ["byte_fallback"] = true,
                ["ignore_merges"] = false,
                ["vocab"] = Vocab(tokens, types, includeAdded: true),
                ["merges"] = mergeArray,
            },
        };
    }

    /// <summary>The normalizer of a SentencePiece BPE tokenizer.json (Llama 2, Mistral): ▁ before the text and for every space.</summary>
    public static JsonObject SentencePieceNormalizer() => new()
    {
        ["type"] = "Sequence",
        ["normalizers"] = new JsonArray(
            new JsonObject { ["type"] = "Prepend", ["prepend"] = "\u2581" },
            new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = " " }, ["content"] = "\u2581" }),
    };

    /// <summary>Its decoder: ▁ back to spaces, byte tokens to bytes, the first leading space dropped.</summary>
    public static JsonObject SentencePieceDecoder() => new()
    {
        ["type"] = "Sequence",
        ["decoders"] = new JsonArray(
            new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = "\u2581" }, ["content"] = " " },
            new JsonObject { ["type"] = "ByteFallback" },
            new JsonObject { ["type"] = "Fuse" },
            new JsonObject { ["type"] = "Strip", ["content"] = " ", ["start"] = 1, ["stop"] = 0 }),
    };

    /// <summary>The model's vocabulary; byte-level tokenizer.json files keep added tokens out of it, SentencePiece ones in.</summary>
    private static JsonObject Vocab(string[] tokens, GgufTokenType[] types, bool includeAdded)
    {
        var vocab = new JsonObject();
        for (int id = 0; id < tokens.Length; id++)
        {
            bool added = types[id] is GgufTokenType.Control or GgufTokenType.Unknown or GgufTokenType.UserDefined;
            if (types[id] != GgufTokenType.Unused && (includeAdded || !added) && !vocab.ContainsKey(tokens[id]))
            {
                vocab[tokens[id]] = id;
            }
        }
        return vocab;
    }

    private static JsonArray AddedTokens(string[] tokens, GgufTokenType[] types)
    {
        var added = new JsonArray();
        for (int id = 0; id < tokens.Length; id++)
        {
            if (types[id] is GgufTokenType.Control or GgufTokenType.Unknown or GgufTokenType.UserDefined)
            {
                added.Add(new JsonObject
                {
                    ["id"] = id,
                    ["content"] = tokens[id],
                    ["single_word"] = false,
                    ["lstrip"] = false,
                    ["rstrip"] = false,
                    ["normalized"] = false,
                    ["special"] = types[id] != GgufTokenType.UserDefined,
                });
            }
        }
        return added;
    }

    private static JsonNode? PostProcessor(int? bos, int? eos, string[] tokens)
    {
        if (bos is null && eos is null)
        {
            return null;
        }
        var single = new JsonArray();
        var specialTokens = new JsonObject();
        void AddSpecial(int id)
        {
            single.Add(new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = tokens[id], ["type_id"] = 0 } });
            specialTokens[tokens[id]] = new JsonObject { ["id"] = tokens[id], ["ids"] = new JsonArray(id), ["tokens"] = new JsonArray(tokens[id]) };
        }
        if (bos is int b)
        {
            AddSpecial(b);
        }
        single.Add(new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A", ["type_id"] = 0 } });
        if (eos is int e)
        {
            AddSpecial(e);
        }
        return new JsonObject { ["type"] = "TemplateProcessing", ["single"] = single, ["special_tokens"] = specialTokens };
    }

    private static GgufTokenType[] TokenTypes(GgufMetadata metadata, int count, string path)
    {
        int[]? types = metadata.GetArray<int>(GgufTokenizerKeys.TokenType);
        if (types is null)
        {
            return Enumerable.Repeat(GgufTokenType.Normal, count).ToArray();
        }
        if (types.Length != count)
        {
            throw new TokenizerException($"GGUF file \"{path}\" has {types.Length} token types for {count} tokens");
        }
        return types.Select(t => (GgufTokenType)t).ToArray();
    }

    private static int? TokenId(GgufMetadata metadata, string key, int tokenCount)
    {
        long? id = metadata.GetInteger(key);
        return id is long value && value >= 0 && value < tokenCount ? (int)value : null;
    }
}
