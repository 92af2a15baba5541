using OrleansLlm.Gguf;

namespace OrleansLlm.Gguf.Tests;

/// <summary>Files written by GgufWriter read back by GgufReader, with the byte layout of docs/GGUF.md checked directly.</summary>
public sealed class GgufWriterTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"orleansllm-gguf-{Guid.NewGuid():N}.gguf");

    public void Dispose() => File.Delete(_path);

    [Fact]
    public void Every_value_type_round_trips()
    {
        var values = new Dictionary<string, GgufValue>
        {
            ["u8"] = GgufValue.Of((byte)200), ["i8"] = GgufValue.Of((sbyte)-100),
            ["u16"] = GgufValue.Of((ushort)60000), ["i16"] = GgufValue.Of((short)-30000),
            ["u32"] = GgufValue.Of(4000000000u), ["i32"] = GgufValue.Of(-2000000000),
            ["f32"] = GgufValue.Of(1.5e-5f), ["bool"] = GgufValue.Of(true),
            ["str"] = GgufValue.Of("héllo ▁ 😀"), ["u64"] = GgufValue.Of(ulong.MaxValue),
            ["i64"] = GgufValue.Of(long.MinValue), ["f64"] = GgufValue.Of(Math.PI),
            ["strings"] = GgufValue.Array(new[] { "a", "", "ß" }), ["ints"] = GgufValue.Array(new[] { 1, -2, 3 }),
            ["floats"] = GgufValue.Array(new[] { 0.5f, -1f }), ["bools"] = GgufValue.Array(new[] { true, false }),
            ["empty"] = GgufValue.Array(Array.Empty<ulong>()),
        };
        using (var stream = File.Create(_path))
        {
            var writer = new GgufWriter(stream);
            foreach (var (key, value) in values)
            {
                writer.Metadata.Set(key, value);
            }
            writer.Finish();
        }
        var file = GgufReader.Read(_path);
        Assert.Equal(values.Count + 1, file.Metadata.Count); // + general.alignment
        foreach (var (key, value) in values)
        {
            var read = file.Metadata[key];
            Assert.Equal(value.Type, read.Type);
            Assert.Equal(value.ElementType, read.ElementType);
            if (value.IsArray)
            {
                Assert.Equal(((Array)value.Value).Cast<object>(), ((Array)read.Value).Cast<object>());
            }
            else
            {
                Assert.Equal(value.Value, read.Value);
            }
        }
        Assert.Equal(32L, file.Metadata.GetInteger(GgufFile.AlignmentKey));
    }

    [Fact]
    public void Tensors_are_aligned_and_streamed_in_any_chunks()
    {
        var a = Enumerable.Range(0, 10).Select(i => (byte)i).ToArray();     // F16 [5]
        var b = Enumerable.Range(0, 96).Select(i => (byte)(255 - i)).ToArray(); // F32 [8, 3]
        using (var stream = File.Create(_path))
        {
            var writer = new GgufWriter(stream);
            writer.Metadata.Set("general.architecture", GgufValue.Of("llama"));
            writer.AddTensor("a", [5], GgufTensorType.F16);
            writer.AddTensor("b", [8, 3], GgufTensorType.F32);
            writer.WriteHeader();
            byte[] all = [.. a, .. b];
            for (int i = 0; i < all.Length; i += 7)
            {
                writer.WriteTensorData(all.AsSpan(i, Math.Min(7, all.Length - i)));
            }
            writer.Finish();
        }
        var file = GgufReader.Read(_path);
        Assert.Equal(0, file.DataStart % 32);
        Assert.Equal(0ul, file.Tensor("a")!.Offset);
        Assert.Equal(32ul, file.Tensor("b")!.Offset); // 10 bytes padded to 32
        Assert.Equal(new long[] { 3, 8 }, file.Tensor("b")!.HfShape);
        Assert.Equal(a, file.ReadTensorBytes(file.Tensor("a")!));
        Assert.Equal(b, file.ReadTensorBytes(file.Tensor("b")!));
        Assert.Equal(file.DataStart + 32 + 96 + 0, new FileInfo(_path).Length); // last tensor 96 bytes, already aligned

        byte[] head = File.ReadAllBytes(_path)[..24];
        Assert.Equal("GGUF"u8.ToArray(), head[..4]);
        Assert.Equal(3u, BitConverter.ToUInt32(head, 4));
        Assert.Equal(2ul, BitConverter.ToUInt64(head, 8));  // tensor_count
        Assert.Equal(2ul, BitConverter.ToUInt64(head, 16)); // metadata_kv_count: architecture + alignment
    }

    [Fact]
    public void Finish_refuses_missing_tensor_bytes()
    {
        using var stream = new MemoryStream();
        var writer = new GgufWriter(stream);
        writer.AddTensor("w", [4], GgufTensorType.F32);
        writer.WriteHeader();
        writer.WriteTensorData(new byte[8]);
        var e = Assert.Throws<InvalidOperationException>(writer.Finish);
        Assert.Contains("\"w\" got 8 of its 16 bytes", e.Message);
        Assert.Throws<InvalidOperationException>(() => writer.WriteTensorData(new byte[9]));
    }
}
