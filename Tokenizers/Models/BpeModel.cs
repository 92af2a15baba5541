using System.Buffers;
using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;

namespace OrleansLlm.Tokenizers.Models;

/// <summary>
/// Byte-pair encoding over token ids: a word starts as one symbol per byte (byte-level) or per
/// code point (SentencePiece style), then the adjacent pair with the lowest merge rank is merged,
/// leftmost first, until no pair has a merge. Results for short words are cached.
/// </summary>
internal sealed class BpeModel
{
    private const int MaxCachedWordLength = 256;
    private const int MaxCacheEntries = 1 << 18;
    private const int HeapThreshold = 48;

    private readonly Vocabulary _vocabulary;
    private readonly MergeRankTable _mergeRanks;
    private readonly int[] _mergeResults;            // [rank] → merged token id
    private readonly int[] _bmpSymbolIds;            // [char] → id of the one-char token, or -1
    private readonly ConcurrentDictionary<int, int> _astralSymbolIds = new();
    private readonly int[] _byteSymbolIds = new int[256];   // byte-level: [byte] → id of its character
    private readonly int[] _byteFallbackIds = new int[256]; // [byte] → id of "<0xXX>", or -1
    private readonly int _unkId;
    private readonly bool _byteFallback;
    private readonly bool _fuseUnk;
    private readonly bool _ignoreMerges;
    private readonly ConcurrentDictionary<string, int[]> _cache = new();
    private readonly ConcurrentDictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> _cacheLookup;
    private int _cacheCount; // ConcurrentDictionary.Count takes every lock, so count inserts here
    private readonly bool[]? _chunkBoundaryAllowed; // [char] → a word may be cut between it and a following '▁'

    private BpeModel(Vocabulary vocabulary, MergeRankTable mergeRanks, int[] mergeResults, int unkId,
        bool byteFallback, bool fuseUnk, bool ignoreMerges, bool[]? chunkBoundaryAllowed)
    {
        _chunkBoundaryAllowed = chunkBoundaryAllowed;
        _vocabulary = vocabulary;
        _mergeRanks = mergeRanks;
        _mergeResults = mergeResults;
        _unkId = unkId;
        _byteFallback = byteFallback;
        _fuseUnk = fuseUnk;
        _ignoreMerges = ignoreMerges;
        _cacheLookup = _cache.GetAlternateLookup<ReadOnlySpan<char>>();
        _bmpSymbolIds = new int[0x10000];
        Array.Fill(_bmpSymbolIds, -1);
        Span<char> one = stackalloc char[1];
        for (int c = 0; c < 0x10000; c++)
        {
            one[0] = (char)c;
            if (vocabulary.TryGetId(one, out int id))
            {
                _bmpSymbolIds[c] = id;
            }
        }
        for (int b = 0; b < 256; b++)
        {
            _byteSymbolIds[b] = _bmpSymbolIds[ByteLevelAlphabet.ByteToChar[b]];
            _byteFallbackIds[b] = vocabulary.TryGetId($"<0x{b:X2}>", out int fallbackId) ? fallbackId : -1;
        }
    }

    public int UnkId => _unkId;

    /// <summary>Reads the "model" object of tokenizer.json; <paramref name="vocabulary"/> already holds vocab and added tokens.</summary>
    public static BpeModel Create(JsonElement config, Vocabulary vocabulary)
    {
        foreach (var affix in new[] { "continuing_subword_prefix", "end_of_word_suffix" })
        {
            if (!string.IsNullOrEmpty(config.OptionalString(affix)))
            {
                throw new TokenizerException($"Unsupported BPE option \"{affix}\" (only empty values are supported)");
            }
        }
        var merges = config.Property("merges");
        if (merges.ValueKind != JsonValueKind.Array)
        {
            throw new TokenizerException("BPE model without a \"merges\" array");
        }
        int count = merges.GetArrayLength();
        var ranks = new MergeRankTable(count);
        var results = new int[count];
        var charsBeforeMetaspace = new HashSet<char>();
        int rank = 0;
        foreach (var merge in merges.EnumerateArray())
        {
            string left, right;
            if (merge.ValueKind == JsonValueKind.String)
            {
                string text = merge.GetString()!;
                int space = text.IndexOf(' ', 1);
                if (space < 0)
                {
                    throw new TokenizerException($"BPE merge \"{text}\" is not two tokens separated by a space");
                }
                left = text[..space];
                right = text[(space + 1)..];
            }
            else if (merge.ValueKind == JsonValueKind.Array && merge.GetArrayLength() == 2)
            {
                left = merge[0].GetString()!;
                right = merge[1].GetString()!;
            }
            else
            {
                throw new TokenizerException($"BPE merge #{rank} is neither \"a b\" nor [\"a\", \"b\"]");
            }
            if (!vocabulary.TryGetId(left, out int leftId) || !vocabulary.TryGetId(right, out int rightId)
                || !vocabulary.TryGetId(left + right, out int mergedId))
            {
                throw new TokenizerException($"BPE merge #{rank} (\"{left}\" + \"{right}\") uses a token missing from the vocabulary");
            }
            NoteCharsBeforeMetaspace(left + right, charsBeforeMetaspace);
            ranks.TryAdd(leftId, rightId, rank);
            results[rank] = mergedId;
            rank++;
        }
        string? unkToken = config.OptionalString("unk_token");
        int unkId = unkToken is not null && vocabulary.TryGetId(unkToken, out int u) ? u : -1;
        bool[]? boundaries = null;
        if (!config.OptionalBool("ignore_merges", false) && vocabulary.TryGetId(Metaspace.ToString(), out _))
        {
            boundaries = new bool[0x10000];
            Array.Fill(boundaries, true);
            boundaries[Metaspace] = false;
            foreach (char c in charsBeforeMetaspace)
            {
                boundaries[c] = false;
            }
        }
        return new BpeModel(vocabulary, ranks, results, unkId,
            config.OptionalBool("byte_fallback", false), config.OptionalBool("fuse_unk", false), config.OptionalBool("ignore_merges", false), boundaries);
    }

    private const char Metaspace = '\u2581';

    // Characters c for which some merge produces a token containing "c▁": a word must not be cut there.
    private static void NoteCharsBeforeMetaspace(string token, HashSet<char> chars)
    {
        for (int i = token.IndexOf(Metaspace, 1); i > 0; i = i + 1 < token.Length ? token.IndexOf(Metaspace, i + 1) : -1)
        {
            chars.Add(token[i - 1]);
        }
    }

    /// <summary>Encodes the words of one section and appends their ids.</summary>
    public void Encode(List<Piece> words, bool byteLevel, List<int> output)
    {
        int first = output.Count;
        foreach (var word in words)
        {
            EncodeWord(word.Span, byteLevel, output);
        }
        if (_fuseUnk && _unkId >= 0)
        {
            FuseUnknowns(output, first);
        }
    }

    private void EncodeWord(ReadOnlySpan<char> word, bool byteLevel, List<int> output)
    {
        if (word.IsEmpty)
        {
            return;
        }
        bool cacheable = word.Length < MaxCachedWordLength;
        if (cacheable && _cacheLookup.TryGetValue(word, out var cached))
        {
            output.AddRange(cached);
            return;
        }
        int start = output.Count;
        if (byteLevel)
        {
            EncodeByteLevel(word, output);
        }
        else
        {
            EncodeCodePoints(word, output);
        }
        if (cacheable && Volatile.Read(ref _cacheCount) < MaxCacheEntries
            && _cache.TryAdd(word.ToString(), output.GetRange(start, output.Count - start).ToArray()))
        {
            Interlocked.Increment(ref _cacheCount);
        }
    }

    private void EncodeByteLevel(ReadOnlySpan<char> word, List<int> output)
    {
        int maxBytes = Encoding.UTF8.GetMaxByteCount(word.Length);
        byte[]? rentedBytes = null;
        int[]? rentedSymbols = null;
        char[]? rentedChars = null;
        Span<byte> bytes = maxBytes <= 512 ? stackalloc byte[512] : (rentedBytes = ArrayPool<byte>.Shared.Rent(maxBytes));
        try
        {
            int n = Encoding.UTF8.GetBytes(word, bytes);
            if (_ignoreMerges)
            {
                Span<char> mapped = n <= 512 ? stackalloc char[512] : (rentedChars = ArrayPool<char>.Shared.Rent(n));
                for (int i = 0; i < n; i++)
                {
                    mapped[i] = ByteLevelAlphabet.ByteToChar[bytes[i]];
                }
                if (_vocabulary.TryGetId(mapped[..n], out int whole))
                {
                    output.Add(whole);
                    return;
                }
            }
            Span<int> symbols = n <= 512 ? stackalloc int[512] : (rentedSymbols = ArrayPool<int>.Shared.Rent(n));
            for (int i = 0; i < n; i++)
            {
                int id = _byteSymbolIds[bytes[i]];
                symbols[i] = id >= 0 ? id : UnknownSymbol(i, 1);
            }
            n = Merge(symbols[..n]);
            EmitSymbols(symbols[..n], word, output, byteLevel: true, bytes);
        }
        finally
        {
            ReturnAll(rentedBytes, rentedSymbols, rentedChars);
        }
    }

    private void EncodeCodePoints(ReadOnlySpan<char> word, List<int> output, bool checkWhole = true)
    {
        if (checkWhole && _ignoreMerges && _vocabulary.TryGetId(word, out int whole))
        {
            output.Add(whole);
            return;
        }
        if (_chunkBoundaryAllowed is not null && word.Length > MaxCachedWordLength / 4 && TryEncodeChunks(word, output))
        {
            return;
        }
        int[]? rented = null;
        Span<int> symbols = word.Length <= 512 ? stackalloc int[512] : (rented = ArrayPool<int>.Shared.Rent(word.Length));
        try
        {
            int n = 0;
            for (int i = 0; i < word.Length;)
            {
                int cp = CharClass.CodePointAt(word, i, out int width);
                int id = width == 1 ? _bmpSymbolIds[cp] : AstralSymbolId(word.Slice(i, 2));
                symbols[n++] = id >= 0 ? id : UnknownSymbol(i, width);
                i += width;
            }
            n = Merge(symbols[..n]);
            EmitSymbols(symbols[..n], word, output, byteLevel: false, default);
        }
        finally
        {
            ReturnAll(null, rented, null);
        }
    }

    /// <summary>
    /// A long SentencePiece word (a whole sentence when there is no pre-tokenizer) is cut before
    /// each '▁' that follows a character no merge ever joins to a '▁'. No symbol can span such a
    /// cut, and merges on one side never change the other, so the pieces encode independently to
    /// the same ids as the whole word, and short pieces hit the cache.
    /// </summary>
    private bool TryEncodeChunks(ReadOnlySpan<char> word, List<int> output)
    {
        int start = 0;
        bool cut = false;
        for (int i = 1; i < word.Length; i++)
        {
            if (word[i] == Metaspace && _chunkBoundaryAllowed![word[i - 1]])
            {
                EncodeChunk(word[start..i], output);
                start = i;
                cut = true;
            }
        }
        if (!cut)
        {
            return false;
        }
        EncodeChunk(word[start..], output);
        return true;
    }

    private void EncodeChunk(ReadOnlySpan<char> chunk, List<int> output)
    {
        bool cacheable = chunk.Length < MaxCachedWordLength;
        if (cacheable && _cacheLookup.TryGetValue(chunk, out var cached))
        {
            output.AddRange(cached);
            return;
        }
        int start = output.Count;
        EncodeCodePoints(chunk, output, checkWhole: false);
        if (cacheable && Volatile.Read(ref _cacheCount) < MaxCacheEntries
            && _cache.TryAdd(chunk.ToString(), output.GetRange(start, output.Count - start).ToArray()))
        {
            Interlocked.Increment(ref _cacheCount);
        }
    }

    private int AstralSymbolId(ReadOnlySpan<char> pair)
    {
        int cp = char.ConvertToUtf32(pair[0], pair[1]);
        if (_astralSymbolIds.TryGetValue(cp, out int id))
        {
            return id;
        }
        id = _vocabulary.TryGetId(pair, out int found) ? found : -1;
        _astralSymbolIds.TryAdd(cp, id);
        return id;
    }

    // An unknown symbol keeps where its text is: -(1 + (offset << 2 | width - 1)).
    private static int UnknownSymbol(int offset, int width) => -(1 + ((offset << 2) | (width - 1)));

    private void EmitSymbols(ReadOnlySpan<int> symbols, ReadOnlySpan<char> word, List<int> output, bool byteLevel, ReadOnlySpan<byte> bytes)
    {
        Span<byte> utf8 = stackalloc byte[4];
        foreach (int symbol in symbols)
        {
            if (symbol >= 0)
            {
                output.Add(symbol);
                continue;
            }
            int code = -symbol - 1;
            int offset = code >> 2;
            int width = (code & 3) + 1;
            int byteCount = byteLevel ? 1 : Encoding.UTF8.GetBytes(word.Slice(offset, width), utf8);
            if (byteLevel)
            {
                utf8[0] = bytes[offset];
            }
            bool allBytes = _byteFallback;
            for (int i = 0; allBytes && i < byteCount; i++)
            {
                allBytes = _byteFallbackIds[utf8[i]] >= 0;
            }
            if (allBytes)
            {
                for (int i = 0; i < byteCount; i++)
                {
                    output.Add(_byteFallbackIds[utf8[i]]);
                }
            }
            else if (_unkId >= 0)
            {
                output.Add(_unkId);
            }
        }
    }

    private void FuseUnknowns(List<int> output, int first)
    {
        int write = first;
        for (int read = first; read < output.Count; read++)
        {
            if (output[read] == _unkId && write > first && output[write - 1] == _unkId)
            {
                continue;
            }
            output[write++] = output[read];
        }
        output.RemoveRange(write, output.Count - write);
    }

    private int RankOf(int left, int right) => _mergeRanks.RankOf(left, right);

    /// <summary>Applies the merges in place; returns the number of symbols left.</summary>
    private int Merge(Span<int> symbols)
    {
        int n = symbols.Length;
        if (n < 2)
        {
            return n;
        }
        return n <= HeapThreshold ? MergeSmall(symbols) : MergeWithHeap(symbols);
    }

    private int MergeSmall(Span<int> symbols)
    {
        int n = symbols.Length;
        Span<int> ranks = stackalloc int[HeapThreshold];
        for (int i = 0; i < n - 1; i++)
        {
            ranks[i] = RankOf(symbols[i], symbols[i + 1]);
        }
        while (n > 1)
        {
            int best = 0;
            for (int i = 1; i < n - 1; i++)
            {
                if (ranks[i] < ranks[best])
                {
                    best = i;
                }
            }
            int rank = ranks[best];
            if (rank == int.MaxValue)
            {
                break;
            }
            symbols[best] = _mergeResults[rank];
            symbols[(best + 2)..n].CopyTo(symbols[(best + 1)..]);
            ranks[(best + 1)..(n - 1)].CopyTo(ranks[best..]);
            n--;
            if (best > 0)
            {
                ranks[best - 1] = RankOf(symbols[best - 1], symbols[best]);
            }
            if (best < n - 1)
            {
                ranks[best] = RankOf(symbols[best], symbols[best + 1]);
            }
        }
        return n;
    }

    private int MergeWithHeap(Span<int> symbols)
    {
        int n = symbols.Length;
        var next = ArrayPool<int>.Shared.Rent(n);
        var prev = ArrayPool<int>.Shared.Rent(n);
        var queue = new PriorityQueue<QueuedPair, long>(n);
        try
        {
            for (int i = 0; i < n; i++)
            {
                next[i] = i + 1 < n ? i + 1 : -1;
                prev[i] = i - 1;
            }
            for (int i = 0; i < n - 1; i++)
            {
                Enqueue(queue, i, symbols[i], symbols[i + 1]);
            }
            while (queue.TryDequeue(out var pair, out long priority))
            {
                int position = pair.Position;
                int right = next[position];
                if (right < 0 || symbols[position] != pair.Left || symbols[right] != pair.Right)
                {
                    continue; // stale entry: this pair changed since it was queued
                }
                int merged = _mergeResults[(int)(priority >> 32)];
                symbols[position] = merged;
                symbols[right] = Removed;
                int after = next[right];
                next[position] = after;
                if (after >= 0)
                {
                    prev[after] = position;
                    Enqueue(queue, position, merged, symbols[after]);
                }
                if (prev[position] >= 0)
                {
                    Enqueue(queue, prev[position], symbols[prev[position]], merged);
                }
            }
            int count = 0;
            for (int i = 0; i >= 0; i = next[i])
            {
                symbols[count++] = symbols[i];
            }
            return count;
        }
        finally
        {
            ArrayPool<int>.Shared.Return(next);
            ArrayPool<int>.Shared.Return(prev);
        }
    }

    private readonly record struct QueuedPair(int Position, int Left, int Right);

    private const int Removed = int.MinValue;

    // Priority: rank, then position, so equal ranks merge leftmost first.
    private void Enqueue(PriorityQueue<QueuedPair, long> queue, int position, int left, int right)
    {
        int rank = RankOf(left, right);
        if (rank != int.MaxValue)
        {
            queue.Enqueue(new QueuedPair(position, left, right), ((long)rank << 32) | (uint)position);
        }
    }

    private static void ReturnAll(byte[]? bytes, int[]? ints, char[]? chars)
    {
        if (bytes is not null)
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
        if (ints is not null)
        {
            ArrayPool<int>.Shared.Return(ints);
        }
        if (chars is not null)
        {
            ArrayPool<char>.Shared.Return(chars);
        }
    }
}
