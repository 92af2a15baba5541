namespace OrleansLlm.Tokenizers.Gguf;

/// <summary>
/// BPE merges of a SentencePiece-style vocabulary rebuilt from its scores, the way Hugging Face's
/// SentencePiece converter builds them: every split of a piece into two pieces that are both in
/// the vocabulary is a merge; the merges of one piece are ordered by (left id, right id); all
/// merges are then stably ordered by the merged piece's score, highest first.
/// </summary>
internal static class SentencePieceMerges
{
    public static List<(string Left, string Right)> Build(IReadOnlyList<string?> pieces, IReadOnlyList<float> scores)
    {
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int id = 0; id < pieces.Count; id++)
        {
            if (pieces[id] is { } piece)
            {
                ids.TryAdd(piece, id);
            }
        }
        var merges = new List<(string Left, string Right, float Score, int Order)>();
        var local = new List<(string Left, string Right, int LeftId, int RightId)>();
        for (int id = 0; id < pieces.Count; id++)
        {
            if (pieces[id] is not { Length: > 1 } piece)
            {
                continue;
            }
            local.Clear();
            for (int split = 1; split < piece.Length; split++)
            {
                if (char.IsLowSurrogate(piece[split]))
                {
                    continue; // pieces are code point strings; a split inside a surrogate pair is no split
                }
                if (ids.TryGetValue(piece[..split], out int left) && ids.TryGetValue(piece[split..], out int right))
                {
                    local.Add((piece[..split], piece[split..], left, right));
                }
            }
            local.Sort((a, b) => a.LeftId != b.LeftId ? a.LeftId.CompareTo(b.LeftId) : a.RightId.CompareTo(b.RightId));
            foreach (var merge in local)
            {
                merges.Add((merge.Left, merge.Right, scores[id], merges.Count));
            }
        }
        // Stable: equal scores keep the order they were found in.
        merges.Sort((a, b) => a.Score != b.Score ? b.Score.CompareTo(a.Score) : a.Order.CompareTo(b.Order));
        return merges.Select(m => (m.Left, m.Right)).ToList();
    }

    /// <summary>
    /// Scores that rebuild <paramref name="merges"/> in their order (for writing a tokenizer.json
    /// SentencePiece model, which keeps merges but no scores): a piece made by a merge scores minus
    /// the rank of its first merge; other normal pieces score below every merge (minus merge count
    /// minus id); control, byte and other non-normal tokens score 0, as in SentencePiece models.
    /// </summary>
    public static float[] Scores(IReadOnlyList<string?> pieces, IReadOnlyList<GgufTokenType> types, IReadOnlyList<(string Left, string Right)> merges)
    {
        var firstRank = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int rank = 0; rank < merges.Count; rank++)
        {
            firstRank.TryAdd(merges[rank].Left + merges[rank].Right, rank);
        }
        var scores = new float[pieces.Count];
        for (int id = 0; id < pieces.Count; id++)
        {
            if (types[id] != GgufTokenType.Normal || pieces[id] is not { } piece)
            {
                continue;
            }
            scores[id] = firstRank.TryGetValue(piece, out int rank) ? -rank : -(merges.Count + id);
        }
        return scores;
    }
}
