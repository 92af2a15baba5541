using System.Buffers.Binary;
using System.Text.Json;

namespace OrleansLlm.Cli.Tests;

/// <summary>An independent, minimal safetensors reader for checking what make-model wrote.</summary>
internal sealed record SafetensorsEntry(string Name, string DType, long[] Shape, long Begin, long End);

internal sealed record SafetensorsFile(long HeaderLength, Dictionary<string, string> Metadata, List<SafetensorsEntry> Tensors, long FileLength)
{
    public static SafetensorsFile Read(string path)
    {
        using var stream = File.OpenRead(path);
        Span<byte> lengthBytes = stackalloc byte[8];
        stream.ReadExactly(lengthBytes);
        long headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        var header = new byte[headerLength];
        stream.ReadExactly(header);
        using var json = JsonDocument.Parse(header);
        var metadata = new Dictionary<string, string>();
        var tensors = new List<SafetensorsEntry>();
        foreach (var property in json.RootElement.EnumerateObject())
        {
            if (property.Name == "__metadata__")
            {
                foreach (var m in property.Value.EnumerateObject())
                {
                    metadata[m.Name] = m.Value.GetString()!;
                }
                continue;
            }
            var offsets = property.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            tensors.Add(new SafetensorsEntry(
                property.Name,
                property.Value.GetProperty("dtype").GetString()!,
                property.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray(),
                offsets[0],
                offsets[1]));
        }
        return new SafetensorsFile(headerLength, metadata, tensors, stream.Length);
    }

    public long DataStart => 8 + HeaderLength;

    public static int DTypeSize(string dtype) => dtype switch
    {
        "F32" => 4,
        "F16" or "BF16" => 2,
        _ => throw new ArgumentException($"unexpected dtype {dtype}"),
    };
}
