using System.Text;
using System.Text.Json;

namespace OrleansLlm.Cli.ModelMaking;

/// <summary>A tensor's place in a safetensors file: [Begin, End) bytes after the header.</summary>
internal sealed record PlacedTensor(TensorSpec Tensor, long Begin, long End);

/// <summary>One safetensors file: 8-byte little-endian header length, the JSON header padded with
/// spaces to 8-byte alignment, then the tensors' bytes back to back.</summary>
internal sealed record SafetensorsShard(string FileName, IReadOnlyList<PlacedTensor> Tensors, byte[] Header)
{
    public long DataBytes => Tensors.Count == 0 ? 0 : Tensors[^1].End;

    /// <summary>Where the tensor data starts in the file.</summary>
    public long DataStart => 8 + Header.Length;

    public long FileBytes => DataStart + DataBytes;
}

/// <summary>Splits a checkpoint into safetensors files the way transformers' `save_pretrained` names
/// them: one `model.safetensors`, or `model-0000i-of-0000N.safetensors` plus
/// `model.safetensors.index.json` once the tensors exceed the shard size.</summary>
internal static class SafetensorsLayout
{
    public const string SingleFileName = "model.safetensors";
    public const string IndexFileName = "model.safetensors.index.json";

    /// <summary>Keeps every shard under 2 GB (transformers' default is 5 GB; smaller shards load and copy more easily).</summary>
    public const long DefaultMaxShardBytes = 2_000_000_000;

    public static IReadOnlyList<SafetensorsShard> Plan(IReadOnlyList<TensorSpec> tensors, TensorDType dtype, long maxShardBytes)
    {
        if (maxShardBytes <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(maxShardBytes), "the shard size must be positive");
        }
        // Tensors go in order; a shard closes when the next tensor would push it over the limit.
        // A single tensor larger than the limit gets a shard of its own.
        var groups = new List<List<TensorSpec>>();
        long groupBytes = 0;
        foreach (var tensor in tensors)
        {
            long bytes = tensor.ElementCount * dtype.ByteSize();
            if (groups.Count == 0 || (groups[^1].Count > 0 && groupBytes + bytes > maxShardBytes))
            {
                groups.Add([]);
                groupBytes = 0;
            }
            groups[^1].Add(tensor);
            groupBytes += bytes;
        }

        var shards = new List<SafetensorsShard>(groups.Count);
        for (int i = 0; i < groups.Count; i++)
        {
            string name = groups.Count == 1 ? SingleFileName : $"model-{i + 1:D5}-of-{groups.Count:D5}.safetensors";
            var placed = new List<PlacedTensor>(groups[i].Count);
            long offset = 0;
            foreach (var tensor in groups[i])
            {
                long bytes = tensor.ElementCount * dtype.ByteSize();
                placed.Add(new PlacedTensor(tensor, offset, offset + bytes));
                offset += bytes;
            }
            shards.Add(new SafetensorsShard(name, placed, Header(placed, dtype)));
        }
        return shards;
    }

    /// <summary>The header JSON, padded with trailing spaces so the data starts 8-byte aligned.</summary>
    public static byte[] Header(IReadOnlyList<PlacedTensor> tensors, TensorDType dtype)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartObject("__metadata__");
            json.WriteString("format", "pt");
            json.WriteEndObject();
            foreach (var placed in tensors)
            {
                json.WriteStartObject(placed.Tensor.Name);
                json.WriteString("dtype", dtype.SafetensorsName());
                json.WriteStartArray("shape");
                foreach (long dim in placed.Tensor.Shape)
                {
                    json.WriteNumberValue(dim);
                }
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(placed.Begin);
                json.WriteNumberValue(placed.End);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        int length = (int)buffer.Length;
        int padded = (8 + length + 7) / 8 * 8 - 8;
        var header = new byte[padded];
        buffer.GetBuffer().AsSpan(0, length).CopyTo(header);
        header.AsSpan(length).Fill((byte)' ');
        return header;
    }

    /// <summary>`model.safetensors.index.json`: total tensor bytes and which file holds each tensor.</summary>
    public static string IndexJson(IReadOnlyList<SafetensorsShard> shards)
    {
        var weightMap = shards
            .SelectMany(shard => shard.Tensors.Select(t => (t.Tensor.Name, shard.FileName)))
            .OrderBy(entry => entry.Name, StringComparer.Ordinal);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteStartObject("metadata");
            json.WriteNumber("total_size", shards.Sum(s => s.DataBytes));
            json.WriteEndObject();
            json.WriteStartObject("weight_map");
            foreach (var (name, file) in weightMap)
            {
                json.WriteString(name, file);
            }
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }
}
