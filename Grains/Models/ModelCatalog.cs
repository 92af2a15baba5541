using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using OrleansLlm.Gguf;
using OrleansLlm.Tokenizers;

namespace OrleansLlm.Grains.Models;

/// <summary>
/// The served models of this silo: their paths (a Hugging Face folder or a .gguf file) and, loaded
/// once, their tokenizers. A .gguf file carries its tokenizer, chat template and context length
/// in its metadata.
/// </summary>
public sealed class ModelCatalog(IOptions<PlatformOptions> options)
{
    private readonly ConcurrentDictionary<string, Lazy<HfTokenizer>> _tokenizers = new();
    private readonly ConcurrentDictionary<string, Lazy<int>> _maxModelLengths = new();

    public IReadOnlyCollection<string> Names => options.Value.Models.Keys;

    public bool Contains(string model) => options.Value.Models.ContainsKey(model);

    /// <summary>The model's folder or .gguf file; <see cref="InvalidTurnException"/> (404 model_not_found) for an unknown name.</summary>
    public string PathOf(string model) =>
        options.Value.Models.TryGetValue(model, out var m)
            ? m.Path
            : throw new InvalidTurnException($"The model '{model}' does not exist", "model", "model_not_found", 404);

    public HfTokenizer Tokenizer(string model)
    {
        var path = PathOf(model);
        return _tokenizers.GetOrAdd(model, _ => new Lazy<HfTokenizer>(() => HfTokenizer.Load(path))).Value;
    }

    /// <summary>Prompt + output tokens a request may hold: the model's max_position_embeddings (the engine's limit too).</summary>
    public int MaxModelLength(string model)
    {
        var path = PathOf(model);
        return _maxModelLengths.GetOrAdd(model, _ => new Lazy<int>(() =>
        {
            if (HfTokenizer.IsGgufFile(path))
            {
                return GgufContextLength(path);
            }
            using var config = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(Path.Combine(path, "config.json")));
            return config.RootElement.GetProperty("max_position_embeddings").GetInt32();
        })).Value;
    }

    /// <summary>`{general.architecture}.context_length` of a GGUF file (docs/GGUF.md).</summary>
    private static int GgufContextLength(string path)
    {
        var metadata = GgufReader.Read(path).Metadata;
        string architecture = metadata.GetString(GgufFile.ArchitectureKey)
            ?? throw new GgufFormatException($"GGUF file \"{path}\" has no {GgufFile.ArchitectureKey}");
        string key = $"{architecture}.context_length";
        return (int)(metadata.GetInteger(key) ?? throw new GgufFormatException($"GGUF file \"{path}\" has no {key}"));
    }
}
