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
}
