using System.Buffers.Binary;
using System.Text;
using OrleansLlm.Gguf;

namespace OrleansLlm.Gguf.Tests;

/// <summary>Corrupt files fail with a GgufFormatException naming the file and the field; bytes are hand-built per docs/GGUF.md.</summary>
public sealed class GgufReaderTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"orleansllm-gguf-{Guid.NewGuid():N}.gguf");

    public void Dispose() => File.Delete(_path);

    private static byte[] U32(uint v) { var b = new byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(b, v); return b; }
    private static byte[] U64(ulong v) { var b = new byte[8]; BinaryPrimitives.WriteUInt64LittleEndian(b, v); return b; }
    private static byte[] Str(string s) => [.. U64((ulong)Encoding.UTF8.GetByteCount(s)), .. Encoding.UTF8.GetBytes(s)];

    private static byte[] Header(uint version, ulong tensors, ulong kvs) => [.. "GGUF"u8.ToArray(), .. U32(version), .. U64(tensors), .. U64(kvs)];

    private GgufFormatException Fails(byte[] bytes)
    {
        File.WriteAllBytes(_path, bytes);
        var e = Assert.Throws<GgufFormatException>(() => GgufReader.Read(_path));
        Assert.Contains(_path, e.Message);
        return e;
    }

    [Fact]
    public void Bad_magic_is_named() => Assert.Contains("not a GGUF file", Fails([.. "GGML"u8.ToArray(), .. U32(3), .. U64(0), .. U64(0)]).Message);

    [Fact]
    public void Version_1_is_refused() => Assert.Contains("version 1", Fails(Header(1, 0, 0)).Message);

    [Fact]
    public void Version_2_is_read()
    {
        File.WriteAllBytes(_path, Header(2, 0, 0));
        Assert.Equal(2u, GgufReader.Read(_path).Version);
    }

    [Fact]
    public void Truncated_header_is_named() => Assert.Contains("truncated", Fails(Header(3, 0, 0)[..20]).Message);

    [Fact]
    public void Truncated_value_is_named() =>
        Assert.Contains("truncated", Fails([.. Header(3, 0, 1), .. Str("k"), .. U32((uint)GgufValueType.UInt64), 1, 2]).Message);

    [Fact]
    public void Overflowing_counts_are_refused_before_allocating()
    {
        Assert.Contains("tensor_count = 1000000000000", Fails(Header(3, 1_000_000_000_000, 0)).Message);
        Assert.Contains("metadata_kv_count", Fails(Header(3, 0, ulong.MaxValue)).Message);
        Assert.Contains("element count of \"arr\"",
            Fails([.. Header(3, 0, 1), .. Str("arr"), .. U32(9), .. U32((uint)GgufValueType.UInt32), .. U64(1UL << 40)]).Message);
        Assert.Contains("claims 1099511627776 bytes", Fails([.. Header(3, 0, 1), .. U64(1UL << 40), .. new byte[16]]).Message);
    }

    [Fact]
    public void Unknown_value_and_tensor_types_are_refused()
    {
        Assert.Contains("unknown value type 13", Fails([.. Header(3, 0, 1), .. Str("k"), .. U32(13), .. U64(0)]).Message);
        var e = Fails([.. Header(3, 1, 0), .. Str("w"), .. U32(1), .. U64(32), .. U32(3), .. U64(0), .. new byte[64]]);
        Assert.Contains("ggml type 3", e.Message);
        Assert.Contains("\"w\"", e.Message);
    }

    [Fact]
    public void Tensor_past_the_end_is_truncation()
    {
        // header 24 + name 9 + n_dims 4 + ne 8 + type 4 + offset 8 = 57, data at 64; F32 [32] needs 128 bytes
        var e = Fails([.. Header(3, 1, 0), .. Str("w"), .. U32(1), .. U64(32), .. U32(0), .. U64(0), .. new byte[7 + 100]]);
        Assert.Contains("truncated", e.Message);
        Assert.Contains("\"w\"", e.Message);
    }

    [Fact]
    public void Too_many_dimensions_are_refused() =>
        Assert.Contains("5 dimensions", Fails([.. Header(3, 1, 0), .. Str("w"), .. U32(5), .. new byte[64]]).Message);
}
