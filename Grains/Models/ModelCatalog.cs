using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using OrleansLlm.Tokenizers;

namespace OrleansLlm.Grains.Models;

/// <summary>The served models of this silo: their folders and, loaded once, their tokenizers.</summary>
public sealed class ModelCatalog(IOptions<PlatformOptions> options)
{
    private readonly ConcurrentDictionary<string, Lazy<HfTokenizer>> _tokenizers = new();

    public IReadOnlyCollection<string> Names => options.Value.Models.Keys;

    public bool Contains(string model) => options.Value.Models.ContainsKey(model);

    /// <summary>The model's folder; <see cref="InvalidTurnException"/> (404 model_not_found) for an unknown name.</summary>
    public string PathOf(string model) =>
        options.Value.Models.TryGetValue(model, out var m)
            ? m.Path
            : throw new InvalidTurnException($"The model '{model}' does not exist", "model", "model_not_found", 404);

    public HfTokenizer Tokenizer(string model)
    {
        var path = PathOf(model);
        return _tokenizers.GetOrAdd(model, _ => new Lazy<HfTokenizer>(() => HfTokenizer.Load(path))).Value;
    }
}
