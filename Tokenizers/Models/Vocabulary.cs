using System.Text.Json;

namespace OrleansLlm.Tokenizers.Models;

/// <summary>Token strings by id and ids by token string, the model vocabulary plus added tokens.</summary>
internal sealed class Vocabulary
{
    private readonly Dictionary<string, int> _ids;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _spanIds;

    public Vocabulary(Dictionary<string, int> ids, string?[] tokens)
    {
        _ids = ids;
        _spanIds = ids.GetAlternateLookup<ReadOnlySpan<char>>();
        Tokens = tokens;
    }

    /// <summary>Token string of each id; null where the files define no token.</summary>
    public string?[] Tokens { get; }

    public int Count => Tokens.Length;

    public bool TryGetId(string token, out int id) => _ids.TryGetValue(token, out id);

    public bool TryGetId(ReadOnlySpan<char> token, out int id) => _spanIds.TryGetValue(token, out id);

    public void Set(string token, int id) => _ids[token] = id;

    /// <summary>model.vocab of tokenizer.json (a token → id object) plus the added tokens, which may extend it.</summary>
    public static Vocabulary Read(JsonElement modelConfig, IReadOnlyList<AddedToken> addedTokens)
    {
        var vocab = modelConfig.Property("vocab");
        if (vocab.ValueKind != JsonValueKind.Object)
        {
            throw new TokenizerException("BPE model without a \"vocab\" object");
        }
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        int maxId = -1;
        foreach (var entry in vocab.EnumerateObject())
        {
            int id = entry.Value.GetInt32();
            if (id < 0)
            {
                throw new TokenizerException($"Vocabulary token \"{entry.Name}\" has a negative id");
            }
            ids[entry.Name] = id;
            maxId = Math.Max(maxId, id);
        }
        foreach (var token in addedTokens)
        {
            maxId = Math.Max(maxId, token.Id);
        }
        var tokens = new string?[maxId + 1];
        foreach (var (token, id) in ids)
        {
            tokens[id] = token;
        }
        var vocabulary = new Vocabulary(ids, tokens);
        foreach (var token in addedTokens)
        {
            tokens[token.Id] = token.Content;
            vocabulary.Set(token.Content, token.Id);
        }
        return vocabulary;
    }
}
