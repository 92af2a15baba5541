using System.Buffers;

namespace OrleansLlm.Tokenizers;

/// <summary>A stretch of input: either plain text or one matched added token.</summary>
internal readonly record struct Section(AddedToken? Token, Piece Text);

/// <summary>
/// Finds added tokens in text before the model sees it: at each position the longest added token
/// that starts there wins, scanning left to right (a trie over UTF-16 units).
/// </summary>
internal sealed class AddedTokenMatcher
{
    private readonly List<Dictionary<char, int>> _children = [new()];
    private readonly List<AddedToken?> _terminal = [null];
    private readonly SearchValues<char> _firstChars;

    public AddedTokenMatcher(IEnumerable<AddedToken> tokens)
    {
        var first = new HashSet<char>();
        foreach (var token in tokens)
        {
            if (token.Content.Length == 0)
            {
                continue;
            }
            first.Add(token.Content[0]);
            int node = 0;
            foreach (char c in token.Content)
            {
                if (!_children[node].TryGetValue(c, out int child))
                {
                    child = _children.Count;
                    _children.Add(new Dictionary<char, int>());
                    _terminal.Add(null);
                    _children[node][c] = child;
                }
                node = child;
            }
            _terminal[node] ??= token;
        }
        _firstChars = SearchValues.Create(first.ToArray());
        IsEmpty = first.Count == 0;
    }

    public bool IsEmpty { get; }

    /// <summary>Splits <paramref name="piece"/> into text and token sections, then applies lstrip/rstrip.</summary>
    public void Split(Piece piece, List<Section> sections)
    {
        int firstSection = sections.Count;
        var s = piece.Span;
        int textStart = 0;
        int i = 0;
        while (i < s.Length)
        {
            int candidate = s[i..].IndexOfAny(_firstChars);
            if (candidate < 0)
            {
                break;
            }
            i += candidate;
            var match = LongestAt(s, i);
            if (match is null)
            {
                i++;
                continue;
            }
            if (i > textStart)
            {
                sections.Add(new Section(null, piece.Slice(textStart, i - textStart)));
            }
            sections.Add(new Section(match, piece.Slice(i, match.Content.Length)));
            i += match.Content.Length;
            textStart = i;
        }
        if (textStart < s.Length)
        {
            sections.Add(new Section(null, piece.Slice(textStart, s.Length - textStart)));
        }
        ApplyStrips(sections, firstSection);
    }

    private AddedToken? LongestAt(ReadOnlySpan<char> s, int i)
    {
        AddedToken? best = null;
        int node = 0;
        for (int j = i; j < s.Length && _children[node].TryGetValue(s[j], out int child); j++)
        {
            node = child;
            best = _terminal[node] ?? best;
        }
        return best;
    }

    private static void ApplyStrips(List<Section> sections, int first)
    {
        for (int i = first; i < sections.Count; i++)
        {
            var token = sections[i].Token;
            if (token is null)
            {
                continue;
            }
            if (token.LStrip && i > first && sections[i - 1].Token is null)
            {
                sections[i - 1] = new Section(null, TrimEnd(sections[i - 1].Text));
            }
            if (token.RStrip && i + 1 < sections.Count && sections[i + 1].Token is null)
            {
                sections[i + 1] = new Section(null, TrimStart(sections[i + 1].Text));
            }
        }
    }

    private static Piece TrimEnd(Piece piece)
    {
        string trimmed = CharClass.JsTrimEnd(piece.ToString());
        return piece.Slice(0, trimmed.Length);
    }

    private static Piece TrimStart(Piece piece)
    {
        string trimmed = CharClass.JsTrimStart(piece.ToString());
        return piece.Slice(piece.Length - trimmed.Length, trimmed.Length);
    }
}
