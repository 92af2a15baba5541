using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace OrleansLlm.Native;

/// <summary>
/// The 16-byte chained hash of one full KV block (DESIGN.md §3), shared by the engine, the prefix
/// index and the session grain: <c>hash[0] = H(salt ‖ tokens[0..B))</c>,
/// <c>hash[i] = H(hash[i-1] ‖ tokens[iB..(i+1)B))</c>, tokens as little-endian int32, H = the first
/// 16 bytes of SHA-256. The C++ twin is Native/src/block-hash.cpp; both are tested against
/// tests/fixtures/block-hash-vectors.json.
/// </summary>
public readonly record struct BlockHash
{
    public const int SizeBytes = 16;

    private readonly UInt128 _value;  // the 16 bytes read big-endian, so ToString() is their hex

    private BlockHash(UInt128 value) => _value = value;

    /// <summary>The hash as its 16 bytes.</summary>
    public static BlockHash FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != SizeBytes)
        {
            throw new ArgumentException($"a block hash has {SizeBytes} bytes, not {bytes.Length}", nameof(bytes));
        }
        return new BlockHash(BinaryPrimitives.ReadUInt128BigEndian(bytes));
    }

    /// <summary>Parses 32 hex digits (as <see cref="ToString"/> writes them).</summary>
    public static BlockHash Parse(string hex) => FromBytes(Convert.FromHexString(hex));

    public void WriteTo(Span<byte> destination) => BinaryPrimitives.WriteUInt128BigEndian(destination, _value);

    public byte[] ToBytes()
    {
        var bytes = new byte[SizeBytes];
        WriteTo(bytes);
        return bytes;
    }

    /// <summary>Lower-case hex of the 16 bytes.</summary>
    public override string ToString() => Convert.ToHexStringLower(ToBytes());

    /// <summary>Hashes of every full block of <paramref name="tokens"/>; a trailing partial block is not hashed.</summary>
    public static BlockHash[] Chain(ReadOnlySpan<int> tokens, int blockSizeTokens, ReadOnlySpan<byte> salt)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSizeTokens, 1);
        var hashes = new BlockHash[tokens.Length / blockSizeTokens];
        var block = new byte[SizeBytes + blockSizeTokens * sizeof(int)];
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        for (var i = 0; i < hashes.Length; i++)
        {
            var prefix = i == 0 ? salt.Length : SizeBytes;
            if (block.Length < prefix + blockSizeTokens * sizeof(int))
            {
                block = new byte[prefix + blockSizeTokens * sizeof(int)];
            }
            if (i == 0)
            {
                salt.CopyTo(block);
            }
            else
            {
                hashes[i - 1].WriteTo(block);
            }
            var body = block.AsSpan(prefix);
            for (var t = 0; t < blockSizeTokens; t++)
            {
                BinaryPrimitives.WriteInt32LittleEndian(body[(t * sizeof(int))..], tokens[i * blockSizeTokens + t]);
            }
            SHA256.HashData(block.AsSpan(0, prefix + blockSizeTokens * sizeof(int)), digest);
            hashes[i] = FromBytes(digest[..SizeBytes]);
        }
        return hashes;
    }

    /// <summary><see cref="Chain(ReadOnlySpan{int}, int, ReadOnlySpan{byte})"/> with the salt as UTF-8 (a tenant id; empty for none).</summary>
    public static BlockHash[] Chain(ReadOnlySpan<int> tokens, int blockSizeTokens, string salt) =>
        Chain(tokens, blockSizeTokens, Encoding.UTF8.GetBytes(salt));
}
