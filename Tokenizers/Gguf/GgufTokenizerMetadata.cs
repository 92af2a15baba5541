using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using OrleansLlm.Gguf;

namespace OrleansLlm.Tokenizers.Gguf;

/// <summary>
/// The GGUF tokenizer metadata of a Hugging Face tokenizer folder (the reverse of loading a .gguf
/// tokenizer): byte-level BPE tokenizers whose normalizer and pre-tokenizer are one of
/// <see cref="GgufPreTokenizers"/>'s become `gpt2` with that pre name; SentencePiece-style BPE
/// (Llama 2, Mistral) becomes `llama` with scores that rebuild the same merges. Anything GGUF
/// cannot say the same way (another pre-tokenizer, a post-processor adding other than bos/eos) is
/// refused with a <see cref="TokenizerException"/> rather than written as a different tokenizer.
/// </summary>
public static partial class GgufTokenizerMetadata
{
    /// <summary>Adds the tokenizer keys of <paramref name="directory"/> to <paramref name="metadata"/>.</summary>
    /// <param name="vocabSize">rows of the model's embedding; ids past the tokenizer's are written as unused `[PADn]` tokens, as llama.cpp expects one token per row</param>
    public static void Add(GgufMetadata metadata, string directory, int? vocabSize = null)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        var tokenizer = HfTokenizer.Load(directory);
        using var files = TokenizerFiles.Read(directory);
        var root = JsonNode.Parse(files.Tokenizer.RootElement.GetRawText())!.AsObject();
        var model = root["model"]!.AsObject();

        int count = Math.Max(tokenizer.VocabSize, vocabSize ?? 0);
        var tokens = new string?[count];
        var types = new GgufTokenType[count];
        for (int id = 0; id < tokenizer.VocabSize; id++)
        {
            tokens[id] = tokenizer.IdToToken(id);
            types[id] = GgufTokenType.Normal;
        }
        foreach (var added in tokenizer.AddedTokens)
        {
            types[added.Id] = !added.Special ? GgufTokenType.UserDefined
                : added.Content == tokenizer.UnkToken ? GgufTokenType.Unknown
                : GgufTokenType.Control;
        }
        for (int id = 0; id < count; id++)
        {
            if (tokens[id] is null)
            {
                tokens[id] = $"[PAD{id}]";
                types[id] = GgufTokenType.Unused;
            }
        }

        var merges = Merges(model);
        if (tokenizer.IsByteLevel)
        {
            var pre = GgufPreTokenizers.Match(root["normalizer"], root["pre_tokenizer"])
                ?? throw new TokenizerException(
                    $"The tokenizer in \"{directory}\" has a normalizer/pre-tokenizer that no GGUF pre-tokenizer name reproduces " +
                    $"(known: {string.Join(", ", GgufPreTokenizers.Written.Select(d => d.Name))}): {root["pre_tokenizer"]?.ToJsonString()}");
            if ((model["ignore_merges"]?.GetValue<bool>() ?? false) != pre.IgnoreMerges)
            {
                throw new TokenizerException(
                    $"The tokenizer in \"{directory}\" matches GGUF pre-tokenizer \"{pre.Name}\" but sets ignore_merges differently");
            }
            metadata.Set(GgufTokenizerKeys.Model, GgufValue.Of(GgufTokenizerKeys.Gpt2Model));
            metadata.Set(GgufTokenizerKeys.Pre, GgufValue.Of(pre.Name));
            metadata.Set(GgufTokenizerKeys.Tokens, GgufValue.Array(tokens!));
            metadata.Set(GgufTokenizerKeys.TokenType, GgufValue.Array(types.Select(t => (int)t).ToArray()));
            metadata.Set(GgufTokenizerKeys.Merges, GgufValue.Array(merges.Select(m => m.Left + " " + m.Right).ToArray()));
        }
        else if (IsSentencePieceBpe(root, model))
        {
            for (int id = 0; id < tokenizer.VocabSize; id++)
            {
                if (types[id] == GgufTokenType.Normal && ByteToken().IsMatch(tokens[id]!))
                {
                    types[id] = GgufTokenType.Byte;
                }
            }
            metadata.Set(GgufTokenizerKeys.Model, GgufValue.Of(GgufTokenizerKeys.LlamaModel));
            metadata.Set(GgufTokenizerKeys.Pre, GgufValue.Of("default"));
            metadata.Set(GgufTokenizerKeys.Tokens, GgufValue.Array(tokens!));
            metadata.Set(GgufTokenizerKeys.Scores, GgufValue.Array(SentencePieceMerges.Scores(tokens, types, merges)));
            metadata.Set(GgufTokenizerKeys.TokenType, GgufValue.Array(types.Select(t => (int)t).ToArray()));
        }
        else
        {
            throw new TokenizerException(
                $"The tokenizer in \"{directory}\" is neither byte-level BPE nor SentencePiece-style BPE (Prepend/Replace ▁ normalizer, " +
                "no pre-tokenizer, byte_fallback); GGUF cannot describe it");
        }

        AddSpecialTokens(metadata, tokenizer, directory);
        if (files.ChatTemplate(null) is { } template)
        {
            metadata.Set(GgufTokenizerKeys.ChatTemplate, GgufValue.Of(template));
        }
    }

    private static void AddSpecialTokens(GgufMetadata metadata, HfTokenizer tokenizer, string directory)
    {
        SetId(GgufTokenizerKeys.BosTokenId, tokenizer.BosTokenId);
        SetId(GgufTokenizerKeys.EosTokenId, tokenizer.EosTokenId);
        SetId(GgufTokenizerKeys.UnknownTokenId, tokenizer.UnkToken is { } unk ? tokenizer.TokenToId(unk) : null);
        SetId(GgufTokenizerKeys.PaddingTokenId, tokenizer.PadToken is { } pad ? tokenizer.TokenToId(pad) : null);
        // generation_config.json's other stop ids: <|eom_id|> is eom (Llama 3.1 tool calls), the first other one eot.
        foreach (int id in tokenizer.EosTokenIds.Where(id => id != tokenizer.EosTokenId))
        {
            string key = tokenizer.IdToToken(id) == "<|eom_id|>" ? GgufTokenizerKeys.EomTokenId : GgufTokenizerKeys.EotTokenId;
            if (!metadata.Contains(key))
            {
                SetId(key, id);
            }
        }

        var (prefix, suffix) = tokenizer.SpecialTokenAffixes;
        bool addBos = prefix.Length == 1 && prefix[0] == tokenizer.BosTokenId;
        bool addEos = suffix.Length == 1 && suffix[0] == tokenizer.EosTokenId;
        if ((prefix.Length > 0 && !addBos) || (suffix.Length > 0 && !addEos))
        {
            throw new TokenizerException(
                $"The tokenizer in \"{directory}\" adds [{string.Join(", ", prefix)}] before and [{string.Join(", ", suffix)}] after a sequence; " +
                "GGUF can only say add_bos_token and add_eos_token");
        }
        metadata.Set(GgufTokenizerKeys.AddBosToken, GgufValue.Of(addBos));
        metadata.Set(GgufTokenizerKeys.AddEosToken, GgufValue.Of(addEos));

        void SetId(string key, int? id)
        {
            if (id is int value)
            {
                metadata.Set(key, GgufValue.Of((uint)value));
            }
        }
    }

    private static bool IsSentencePieceBpe(JsonObject root, JsonObject model) =>
        JsonNode.DeepEquals(root["normalizer"], GgufTokenizerFiles.SentencePieceNormalizer())
        && root["pre_tokenizer"] is null
        && (model["byte_fallback"]?.GetValue<bool>() ?? false)
        && JsonNode.DeepEquals(root["decoder"], GgufTokenizerFiles.SentencePieceDecoder());

    /// <summary>model.merges as "left right" strings or [left, right] pairs.</summary>
    private static List<(string Left, string Right)> Merges(JsonObject model)
    {
        var merges = new List<(string, string)>();
        foreach (var merge in model["merges"]?.AsArray() ?? [])
        {
            if (merge is JsonArray pair)
            {
                merges.Add((pair[0]!.GetValue<string>(), pair[1]!.GetValue<string>()));
            }
            else
            {
                string text = merge!.GetValue<string>();
                int space = text.IndexOf(' ', StringComparison.Ordinal);
                if (space < 0)
                {
                    throw new TokenizerException($"Merge \"{text}\" has no space between its two parts");
                }
                merges.Add((text[..space], text[(space + 1)..]));
            }
        }
        return merges;
    }

    [GeneratedRegex("^<0x[0-9A-F]{2}>$")]
    private static partial Regex ByteToken();
}
