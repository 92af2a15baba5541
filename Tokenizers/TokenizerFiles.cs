using System.Text.Json;

namespace OrleansLlm.Tokenizers;

/// <summary>
/// What a tokenizer folder says besides tokenizer.json: tokenizer_config.json (special token
/// strings, chat template, decode options), special_tokens_map.json and generation_config.json.
/// Public so that tools which handle tokenizer folders (model making) read them the way
/// <see cref="HfTokenizer"/> does. Owns the parsed tokenizer.json: dispose it.
/// </summary>
public sealed record TokenizerFiles(
    JsonDocument Tokenizer,
    JsonElement Config,
    JsonElement SpecialTokensMap,
    JsonElement GenerationConfig) : IDisposable
{
    public const string TokenizerFileName = "tokenizer.json";
    public const string ConfigFileName = "tokenizer_config.json";
    public const string SpecialTokensMapFileName = "special_tokens_map.json";
    public const string GenerationConfigFileName = "generation_config.json";

    public void Dispose() => Tokenizer.Dispose();

    /// <summary>
    /// Every (token, id) tokenizer.json defines, whatever the model type: model.vocab as a token → id
    /// object (BPE, WordPiece) or as Unigram's [piece, score] list whose index is the id, then
    /// added_tokens (which may reuse or extend the ids).
    /// </summary>
    public IEnumerable<KeyValuePair<string, int>> TokenIds()
    {
        var root = Tokenizer.RootElement;
        var vocab = root.Property("model").Property("vocab");
        if (vocab.ValueKind == JsonValueKind.Object)
        {
            foreach (var entry in vocab.EnumerateObject())
            {
                yield return new(entry.Name, entry.Value.GetInt32());
            }
        }
        else if (vocab.ValueKind == JsonValueKind.Array)
        {
            int id = 0;
            foreach (var entry in vocab.EnumerateArray())
            {
                yield return new(entry[0].GetString() ?? "", id++);
            }
        }
        foreach (var token in AddedToken.ReadAll(root))
        {
            yield return new(token.Content, token.Id);
        }
    }

    public static TokenizerFiles Read(string directory)
    {
        if (!Directory.Exists(directory))
        {
            throw new TokenizerException($"Tokenizer folder \"{directory}\" does not exist");
        }
        string tokenizerPath = Path.Combine(directory, TokenizerFileName);
        if (!File.Exists(tokenizerPath))
        {
            throw new TokenizerException($"Tokenizer folder \"{directory}\" has no {TokenizerFileName}");
        }
        var options = new JsonDocumentOptions { MaxDepth = 256 };
        JsonDocument tokenizer;
        try
        {
            using var stream = File.OpenRead(tokenizerPath);
            tokenizer = JsonDocument.Parse(stream, options);
        }
        catch (JsonException e)
        {
            throw new TokenizerException($"{tokenizerPath} is not valid JSON: {e.Message}", e);
        }
        return new TokenizerFiles(
            tokenizer,
            ReadOptional(Path.Combine(directory, ConfigFileName)),
            ReadOptional(Path.Combine(directory, SpecialTokensMapFileName)),
            ReadOptional(Path.Combine(directory, GenerationConfigFileName)));
    }

    /// <summary>A special token named in the config or the special tokens map: a string or {"content": ...}.</summary>
    public string? SpecialToken(string name)
    {
        return TokenString(Config.Property(name)) ?? TokenString(SpecialTokensMap.Property(name));
    }

    public IEnumerable<string> AdditionalSpecialTokens()
    {
        foreach (var source in new[] { Config, SpecialTokensMap })
        {
            var list = source.Property("additional_special_tokens");
            if (list.ValueKind != JsonValueKind.Array)
            {
                continue;
            }
            foreach (var item in list.EnumerateArray())
            {
                if (TokenString(item) is { } token)
                {
                    yield return token;
                }
            }
        }
    }

    /// <summary>generation_config.json's eos_token_id: one id or a list.</summary>
    public IEnumerable<int> GenerationEosTokenIds()
    {
        var eos = GenerationConfig.Property("eos_token_id");
        if (eos.ValueKind == JsonValueKind.Number)
        {
            yield return eos.GetInt32();
        }
        else if (eos.ValueKind == JsonValueKind.Array)
        {
            foreach (var id in eos.EnumerateArray())
            {
                if (id.ValueKind == JsonValueKind.Number)
                {
                    yield return id.GetInt32();
                }
            }
        }
    }

    /// <summary>chat_template: a string, or a list of {"name", "template"} from which <paramref name="name"/> (default "default") is taken.</summary>
    public string? ChatTemplate(string? name)
    {
        var template = Config.Property("chat_template");
        if (template.ValueKind == JsonValueKind.String)
        {
            return name is null or "default" ? template.GetString() : null;
        }
        if (template.ValueKind == JsonValueKind.Array)
        {
            string wanted = name ?? "default";
            foreach (var entry in template.EnumerateArray())
            {
                if (entry.OptionalString("name") == wanted)
                {
                    return entry.OptionalString("template");
                }
            }
        }
        return null;
    }

    private static string? TokenString(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Object => value.OptionalString("content"),
        _ => null,
    };

    private static JsonElement ReadOptional(string path)
    {
        if (!File.Exists(path))
        {
            return default;
        }
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { MaxDepth = 256 });
            return document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new TokenizerException($"{path} is not valid JSON: {e.Message}", e);
        }
    }
}
