using System.Buffers.Binary;
using System.Text.Json;

namespace OrleansLlm.Cli.Converting;

/// <summary>One tensor of a safetensors checkpoint: its file and the absolute byte range of its data there.</summary>
internal sealed record SafetensorsTensor(string Name, string DType, long[] Shape, string FilePath, long DataBegin, long DataEnd)
{
    public long ByteSize => DataEnd - DataBegin;
}

/// <summary>
/// The tensors of a Hugging Face model folder: `model.safetensors`, or the shards
/// `model.safetensors.index.json` names, or else every `*.safetensors` file in the folder. Reads
/// headers only; tensor bytes are read on demand.
/// </summary>
internal sealed class SafetensorsCheckpoint
{
    public const string SingleFileName = "model.safetensors";
    public const string IndexFileName = "model.safetensors.index.json";

    private readonly Dictionary<string, SafetensorsTensor> _tensors;

    private SafetensorsCheckpoint(Dictionary<string, SafetensorsTensor> tensors, IReadOnlyList<string> files)
    {
        _tensors = tensors;
        Files = files;
    }

    public IReadOnlyList<string> Files { get; }

    public IEnumerable<SafetensorsTensor> Tensors => _tensors.Values;

    public SafetensorsTensor? Find(string name) => _tensors.GetValueOrDefault(name);

    public static SafetensorsCheckpoint Open(string directory)
    {
        var files = FindFiles(directory);
        var tensors = new Dictionary<string, SafetensorsTensor>(StringComparer.Ordinal);
        foreach (string file in files)
        {
            foreach (var tensor in ReadHeader(file))
            {
                if (!tensors.TryAdd(tensor.Name, tensor))
                {
                    throw new ConversionException($"tensor {tensor.Name} is in both {tensors[tensor.Name].FilePath} and {file}");
                }
            }
        }
        return new SafetensorsCheckpoint(tensors, files);
    }

    private static List<string> FindFiles(string directory)
    {
        string index = Path.Combine(directory, IndexFileName);
        if (File.Exists(index))
        {
            using var json = ParseJson(File.ReadAllBytes(index), index);
            if (!json.RootElement.TryGetProperty("weight_map", out var weightMap) || weightMap.ValueKind != JsonValueKind.Object)
            {
                throw new ConversionException($"{index} has no weight_map object");
            }
            var shards = weightMap.EnumerateObject().Select(e => e.Value.GetString() ?? "").Distinct().Order(StringComparer.Ordinal)
                .Select(name => Path.Combine(directory, name)).ToList();
            foreach (string shard in shards.Where(s => !File.Exists(s)))
            {
                throw new ConversionException($"{index} names {Path.GetFileName(shard)}, which is missing");
            }
            return shards;
        }
        string single = Path.Combine(directory, SingleFileName);
        if (File.Exists(single))
        {
            return [single];
        }
        var all = Directory.EnumerateFiles(directory, "*.safetensors").Order(StringComparer.Ordinal).ToList();
        if (all.Count == 0)
        {
            throw new ConversionException($"{directory} has no safetensors weights ({SingleFileName}, {IndexFileName} or *.safetensors)");
        }
        return all;
    }

    private static IEnumerable<SafetensorsTensor> ReadHeader(string path)
    {
        using var stream = File.OpenRead(path);
        Span<byte> lengthBytes = stackalloc byte[8];
        if (stream.ReadAtLeast(lengthBytes, 8, throwOnEndOfStream: false) < 8)
        {
            throw new ConversionException($"{path} is too short for a safetensors file");
        }
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength > (ulong)(stream.Length - 8) || headerLength > 100_000_000)
        {
            throw new ConversionException($"{path} has a header length of {headerLength} bytes, more than the file holds");
        }
        var header = new byte[headerLength];
        stream.ReadExactly(header);
        long dataStart = 8 + (long)headerLength;
        var tensors = new List<SafetensorsTensor>();
        using var json = ParseJson(header, path);
        foreach (var entry in json.RootElement.EnumerateObject())
        {
            if (entry.Name == "__metadata__")
            {
                continue;
            }
            try
            {
                string dtype = entry.Value.GetProperty("dtype").GetString() ?? "";
                long[] shape = entry.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
                long[] offsets = entry.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
                if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0] || dataStart + offsets[1] > stream.Length)
                {
                    throw new ConversionException($"{path}: tensor {entry.Name} has data_offsets [{string.Join(", ", offsets)}] outside the file");
                }
                tensors.Add(new SafetensorsTensor(entry.Name, dtype, shape, path, dataStart + offsets[0], dataStart + offsets[1]));
            }
            catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
            {
                throw new ConversionException($"{path}: malformed header entry for {entry.Name}: {e.Message}", e);
            }
        }
        return tensors;
    }

    private static JsonDocument ParseJson(byte[] bytes, string path)
    {
        try
        {
            return JsonDocument.Parse(bytes);
        }
        catch (JsonException e)
        {
            throw new ConversionException($"{path} is not valid JSON: {e.Message}", e);
        }
    }
}
