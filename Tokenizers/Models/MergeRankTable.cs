using System.Numerics;

namespace OrleansLlm.Tokenizers.Models;

/// <summary>
/// The BPE merge ranks: (left id, right id) → rank, an open-addressing table with linear probing.
/// Not a <c>Dictionary&lt;long, int&gt;</c>: <c>long.GetHashCode</c> XORs the two 32-bit halves,
/// so every pair of a token with itself (left == right) hashes to 0 and all of them share one
/// bucket chain; a word of 300 identical letters then took ~3 ms instead of microseconds. Here the
/// key is multiplied by a 64-bit odd constant (Fibonacci hashing) and the top bits pick the slot,
/// which spreads both halves over the whole index.
/// </summary>
internal sealed class MergeRankTable
{
    private const ulong Multiplier = 0x9E3779B97F4A7C15; // 2^64 / golden ratio, odd
    private const long Empty = -1; // no pair of two non-negative ids encodes to -1

    private readonly long[] _keys;
    private readonly int[] _ranks;
    private readonly int _shift;
    private readonly int _mask;

    public MergeRankTable(int capacity)
    {
        // At most half full, so probe runs stay short.
        int size = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(16, capacity * 2));
        _keys = new long[size];
        _ranks = new int[size];
        Array.Fill(_keys, Empty);
        _shift = 64 - BitOperations.Log2((uint)size);
        _mask = size - 1;
    }

    public int Count { get; private set; }

    /// <summary>Adds a pair unless it is already present (the first, lowest rank wins, as in the reference).</summary>
    public bool TryAdd(int left, int right, int rank)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(left);
        ArgumentOutOfRangeException.ThrowIfNegative(right);
        if (Count + 1 > (_keys.Length >> 1))
        {
            throw new InvalidOperationException("MergeRankTable is full: it was created with a smaller capacity");
        }
        long key = Key(left, right);
        for (int slot = Slot(key); ; slot = (slot + 1) & _mask)
        {
            if (_keys[slot] == key)
            {
                return false;
            }
            if (_keys[slot] == Empty)
            {
                _keys[slot] = key;
                _ranks[slot] = rank;
                Count++;
                return true;
            }
        }
    }

    /// <summary>The rank of merging <paramref name="left"/> with <paramref name="right"/>, or <see cref="int.MaxValue"/>.</summary>
    public int RankOf(int left, int right)
    {
        if ((left | right) < 0)
        {
            return int.MaxValue; // unknown symbols (negative) never merge
        }
        long key = Key(left, right);
        long[] keys = _keys;
        for (int slot = Slot(key); ; slot = (slot + 1) & _mask)
        {
            long found = keys[slot];
            if (found == key)
            {
                return _ranks[slot];
            }
            if (found == Empty)
            {
                return int.MaxValue;
            }
        }
    }

    private static long Key(int left, int right) => ((long)left << 32) | (uint)right;

    private int Slot(long key) => (int)(((ulong)key * Multiplier) >> _shift);
}
