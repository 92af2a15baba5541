using System.Buffers.Binary;
using System.Text;

namespace OrleansLlm.Gguf;

/// <summary>
/// Reads the header of a GGUF file (docs/GGUF.md): magic, version 2 or 3, metadata of every value
/// type, tensor infos. Every count and length is checked against the bytes left in the file before
/// anything is allocated, so a corrupt file fails with a <see cref="GgufFormatException"/> that
/// names the file and the field, never with an out-of-memory or a hang.
/// </summary>
public sealed class GgufReader
{
    public const uint Magic = 0x46554747; // "GGUF" read as a little-endian uint32
    public const int MaxDimensions = 4;

    private readonly Stream _stream;
    private readonly string _name;
    private readonly long _length;
    private readonly byte[] _scratch = new byte[8];
    private long _position;

    private GgufReader(Stream stream, string name)
    {
        _stream = stream;
        _name = name;
        _length = stream.Length;
    }

    /// <summary>Reads the header of the file at <paramref name="path"/>.</summary>
    public static GgufFile Read(string path)
    {
        FileStream file;
        try
        {
            file = File.OpenRead(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new GgufFormatException($"cannot open GGUF file \"{path}\": {e.Message}", e);
        }
        using (file)
        {
            using var buffered = new BufferedStream(file, 1 << 16);
            return new GgufReader(buffered, path).ReadFile(path, file.Length);
        }
    }

    /// <summary>Whether the file starts with the GGUF magic (false for a folder or a missing or short file).</summary>
    public static bool HasMagic(string path)
    {
        if (!File.Exists(path))
        {
            return false;
        }
        using var file = File.OpenRead(path);
        Span<byte> magic = stackalloc byte[4];
        return file.ReadAtLeast(magic, 4, throwOnEndOfStream: false) == 4 && BinaryPrimitives.ReadUInt32LittleEndian(magic) == Magic;
    }

    private GgufFile ReadFile(string path, long fileLength)
    {
        try
        {
            if (_length < 4)
            {
                throw Error($"is {_length} bytes, too short for a GGUF file");
            }
            uint magic = ReadUInt32();
            if (magic != Magic)
            {
                throw Error($"is not a GGUF file: magic is {Hex(magic)}, expected 47 47 55 46 (\"GGUF\")");
            }
            uint version = ReadUInt32();
            if (version is not (2 or 3))
            {
                throw Error($"has GGUF version {version}; only versions 2 and 3 are supported");
            }
            ulong tensorCount = ReadUInt64();
            ulong kvCount = ReadUInt64();
            // A key/value takes at least 13 bytes (empty key, type, 1-byte value); a tensor info at least 24.
            CheckCount(kvCount, 13, "metadata_kv_count");
            CheckCount(tensorCount, 24, "tensor_count");

            var metadata = new GgufMetadata();
            for (ulong i = 0; i < kvCount; i++)
            {
                string key = ReadString($"the key of metadata entry {i}");
                var type = (GgufValueType)ReadUInt32();
                metadata.Set(key, ReadValue(key, type));
            }

            int alignment = GgufFile.DefaultAlignment;
            if (metadata.TryGet(GgufFile.AlignmentKey, out var alignmentValue))
            {
                if (alignmentValue.Value is not uint value || value == 0 || (value & (value - 1)) != 0)
                {
                    throw Error($"has {GgufFile.AlignmentKey} = {alignmentValue}, not a power-of-two uint32");
                }
                alignment = (int)value;
            }

            var tensors = new List<GgufTensorInfo>((int)tensorCount);
            var names = new HashSet<string>(StringComparer.Ordinal);
            for (ulong i = 0; i < tensorCount; i++)
            {
                tensors.Add(ReadTensorInfo(i, alignment));
                if (!names.Add(tensors[^1].Name))
                {
                    throw Error($"has two tensors named \"{tensors[^1].Name}\"");
                }
            }

            long dataStart = (_position + alignment - 1) / alignment * alignment;
            foreach (var tensor in tensors)
            {
                long end = dataStart + (long)tensor.Offset + tensor.ByteSize;
                if (end > fileLength)
                {
                    throw Error($"is truncated: tensor \"{tensor.Name}\" ends at byte {end}, the file has {fileLength}");
                }
            }
            return new GgufFile(path, version, metadata, tensors, dataStart, alignment);
        }
        catch (EndOfStreamException e)
        {
            throw new GgufFormatException($"GGUF file \"{_name}\" is truncated at byte {_position} of {_length}", e);
        }
    }

    private GgufTensorInfo ReadTensorInfo(ulong index, int alignment)
    {
        string name = ReadString($"the name of tensor {index}");
        uint dimensionCount = ReadUInt32();
        if (dimensionCount is 0 or > MaxDimensions)
        {
            throw Error($"tensor \"{name}\" has {dimensionCount} dimensions (1 to {MaxDimensions} allowed)");
        }
        var dimensions = new ulong[dimensionCount];
        ulong elements = 1;
        for (int d = 0; d < dimensionCount; d++)
        {
            dimensions[d] = ReadUInt64();
            if (dimensions[d] > long.MaxValue || (dimensions[d] != 0 && elements > (ulong)long.MaxValue / dimensions[d]))
            {
                throw Error($"tensor \"{name}\" has dimensions that overflow: [{string.Join(", ", dimensions.Take(d + 1))}]");
            }
            elements *= dimensions[d];
        }
        uint typeNumber = ReadUInt32();
        var type = (GgufTensorType)typeNumber;
        if (!type.IsKnown())
        {
            throw Error($"tensor \"{name}\" has ggml type {typeNumber}, which is not supported (F32, F16, BF16, Q8_0, Q4_0, Q5_0, Q5_1, Q4_K, Q6_K)");
        }
        if (dimensions[0] % (ulong)type.BlockLayout().Elements != 0)
        {
            throw Error($"tensor \"{name}\" of type {type} has rows of {dimensions[0]} elements, not whole blocks of {type.BlockLayout().Elements}");
        }
        ulong offset = ReadUInt64();
        if (offset % (ulong)alignment != 0)
        {
            throw Error($"tensor \"{name}\" has offset {offset}, not a multiple of the alignment {alignment}");
        }
        if (offset > (ulong)_length)
        {
            throw Error($"is truncated: tensor \"{name}\" starts at data offset {offset}, past the end of the file ({_length} bytes)");
        }
        return new GgufTensorInfo(name, dimensions, type, offset);
    }

    private GgufValue ReadValue(string key, GgufValueType type)
    {
        if (type == GgufValueType.Array)
        {
            var elementType = (GgufValueType)ReadUInt32();
            ulong count = ReadUInt64();
            if (elementType == GgufValueType.Array)
            {
                throw Error($"key \"{key}\" is an array of arrays, which is not supported");
            }
            if (!elementType.IsKnown())
            {
                throw Error($"key \"{key}\" is an array of unknown value type {(uint)elementType}");
            }
            CheckCount(count, elementType.MinimumByteSize(), $"the element count of \"{key}\"");
            var values = System.Array.CreateInstance(GgufValue.ClrType(elementType), (int)count);
            for (int i = 0; i < (int)count; i++)
            {
                values.SetValue(ReadScalar(key, elementType), i);
            }
            return GgufValue.ArrayOf(elementType, values);
        }
        if (!type.IsKnown())
        {
            throw Error($"key \"{key}\" has unknown value type {(uint)type}");
        }
        return GgufValue.Scalar(type, ReadScalar(key, type));
    }

    private object ReadScalar(string key, GgufValueType type) => type switch
    {
        GgufValueType.UInt8 => ReadBytes(1)[0],
        GgufValueType.Int8 => (sbyte)ReadBytes(1)[0],
        GgufValueType.UInt16 => BinaryPrimitives.ReadUInt16LittleEndian(ReadBytes(2)),
        GgufValueType.Int16 => BinaryPrimitives.ReadInt16LittleEndian(ReadBytes(2)),
        GgufValueType.UInt32 => ReadUInt32(),
        GgufValueType.Int32 => BinaryPrimitives.ReadInt32LittleEndian(ReadBytes(4)),
        GgufValueType.Float32 => BinaryPrimitives.ReadSingleLittleEndian(ReadBytes(4)),
        GgufValueType.Bool => ReadBool(key),
        GgufValueType.String => ReadString($"the value of \"{key}\""),
        GgufValueType.UInt64 => ReadUInt64(),
        GgufValueType.Int64 => BinaryPrimitives.ReadInt64LittleEndian(ReadBytes(8)),
        GgufValueType.Float64 => BinaryPrimitives.ReadDoubleLittleEndian(ReadBytes(8)),
        _ => throw Error($"key \"{key}\" has unknown value type {(uint)type}"),
    };

    private bool ReadBool(string key)
    {
        byte value = ReadBytes(1)[0];
        return value switch
        {
            0 => false,
            1 => true,
            _ => throw Error($"key \"{key}\" has bool byte {value}, not 0 or 1"),
        };
    }

    private string ReadString(string what)
    {
        ulong length = ReadUInt64();
        if (length > (ulong)(_length - _position))
        {
            throw Error($"{what} claims {length} bytes, more than the {_length - _position} left in the file");
        }
        if (length == 0)
        {
            return "";
        }
        var bytes = length <= (ulong)_scratch.Length ? _scratch.AsSpan(0, (int)length) : new byte[length];
        Fill(bytes);
        return Encoding.UTF8.GetString(bytes);
    }

    private void CheckCount(ulong count, int minimumBytesEach, string field)
    {
        ulong left = (ulong)(_length - _position);
        if (count > int.MaxValue || (minimumBytesEach > 0 && count > left / (ulong)minimumBytesEach))
        {
            throw Error($"has {field} = {count}, more than the {left} bytes left in the file can hold");
        }
    }

    private uint ReadUInt32() => BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4));

    private ulong ReadUInt64() => BinaryPrimitives.ReadUInt64LittleEndian(ReadBytes(8));

    private ReadOnlySpan<byte> ReadBytes(int count)
    {
        var span = _scratch.AsSpan(0, count);
        Fill(span);
        return span;
    }

    private void Fill(Span<byte> destination)
    {
        _stream.ReadExactly(destination);
        _position += destination.Length;
    }

    private GgufFormatException Error(string what) => new($"GGUF file \"{_name}\" {what}");

    private static string Hex(uint value) =>
        string.Join(' ', BitConverter.GetBytes(value).Select(b => b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture)));
}
