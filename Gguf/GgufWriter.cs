using System.Buffers.Binary;
using System.Text;

namespace OrleansLlm.Gguf;

/// <summary>
/// Writes a GGUF file (version 3, docs/GGUF.md) to a stream in one pass: set the metadata, add the
/// tensor infos, <see cref="WriteHeader"/>, then stream each tensor's bytes in the order the tensors
/// were added with <see cref="WriteTensorData"/> (any chunk sizes), then <see cref="Finish"/>.
/// Only one chunk is in memory at a time, so a multi-GB model is never held whole.
/// </summary>
public sealed class GgufWriter
{
    public const uint Version = 3;

    private readonly Stream _stream;
    private readonly List<GgufTensorInfo> _tensors = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private ulong _nextOffset;
    private bool _headerWritten;
    private int _tensorIndex;
    private long _writtenInTensor;

    /// <param name="destination">a writable stream positioned at the file's start; the caller disposes it</param>
    public GgufWriter(Stream destination, int alignment = GgufFile.DefaultAlignment)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (alignment <= 0 || (alignment & (alignment - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(alignment), alignment, "the alignment must be a power of two");
        }
        _stream = destination;
        Alignment = alignment;
    }

    public int Alignment { get; }

    /// <summary>The metadata to write; <c>general.alignment</c> is added by <see cref="WriteHeader"/>.</summary>
    public GgufMetadata Metadata { get; } = new();

    public IReadOnlyList<GgufTensorInfo> Tensors => _tensors;

    /// <summary>Declares a tensor (dimensions innermost first, as `ne`); its data comes after the header, in this order.</summary>
    public GgufTensorInfo AddTensor(string name, IReadOnlyList<ulong> dimensions, GgufTensorType type)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(dimensions);
        if (_headerWritten)
        {
            throw new InvalidOperationException("tensors must be added before the header is written");
        }
        if (dimensions.Count is 0 or > GgufReader.MaxDimensions)
        {
            throw new ArgumentException($"tensor \"{name}\" has {dimensions.Count} dimensions (1 to {GgufReader.MaxDimensions} allowed)", nameof(dimensions));
        }
        if (!type.IsKnown())
        {
            throw new ArgumentOutOfRangeException(nameof(type), type, $"tensor \"{name}\" has an unsupported type");
        }
        if (!_names.Add(name))
        {
            throw new ArgumentException($"a tensor named \"{name}\" was already added", nameof(name));
        }
        var info = new GgufTensorInfo(name, dimensions.ToArray(), type, _nextOffset);
        _tensors.Add(info);
        _nextOffset = info.Offset + Align((ulong)info.ByteSize);
        return info;
    }

    /// <summary>Writes magic, version, counts, metadata, tensor infos and the padding before the data.</summary>
    public void WriteHeader()
    {
        if (_headerWritten)
        {
            throw new InvalidOperationException("the header was already written");
        }
        if (!Metadata.Contains(GgufFile.AlignmentKey))
        {
            Metadata.Set(GgufFile.AlignmentKey, GgufValue.Of((uint)Alignment));
        }
        else if (Metadata[GgufFile.AlignmentKey].Value is not uint a || a != Alignment)
        {
            throw new InvalidOperationException($"{GgufFile.AlignmentKey} in the metadata differs from the writer's alignment {Alignment}");
        }
        var header = new MemoryStream();
        WriteUInt32(header, GgufReader.Magic);
        WriteUInt32(header, Version);
        WriteUInt64(header, (ulong)_tensors.Count);
        WriteUInt64(header, (ulong)Metadata.Count);
        foreach (string key in Metadata.Keys)
        {
            var value = Metadata[key];
            WriteString(header, key);
            WriteUInt32(header, (uint)value.Type);
            if (value.IsArray)
            {
                var array = (Array)value.Value;
                WriteUInt32(header, (uint)value.ElementType);
                WriteUInt64(header, (ulong)array.Length);
                foreach (object element in array)
                {
                    WriteScalar(header, value.ElementType, element);
                }
            }
            else
            {
                WriteScalar(header, value.Type, value.Value);
            }
        }
        foreach (var tensor in _tensors)
        {
            WriteString(header, tensor.Name);
            WriteUInt32(header, (uint)tensor.Dimensions.Count);
            foreach (ulong dim in tensor.Dimensions)
            {
                WriteUInt64(header, dim);
            }
            WriteUInt32(header, (uint)tensor.Type);
            WriteUInt64(header, tensor.Offset);
        }
        header.Write(new byte[(int)(Align((ulong)header.Length) - (ulong)header.Length)]);
        header.Position = 0;
        header.CopyTo(_stream);
        _headerWritten = true;
        SkipEmptyTensors();
    }

    /// <summary>The next bytes of the tensors' data, in the order they were added; a chunk may span tensors.</summary>
    public void WriteTensorData(ReadOnlySpan<byte> bytes)
    {
        if (!_headerWritten)
        {
            throw new InvalidOperationException("write the header before the tensor data");
        }
        while (bytes.Length > 0)
        {
            if (_tensorIndex >= _tensors.Count)
            {
                throw new InvalidOperationException($"{bytes.Length} bytes more than the tensors hold");
            }
            var tensor = _tensors[_tensorIndex];
            int take = (int)Math.Min(bytes.Length, tensor.ByteSize - _writtenInTensor);
            _stream.Write(bytes[..take]);
            bytes = bytes[take..];
            _writtenInTensor += take;
            if (_writtenInTensor == tensor.ByteSize)
            {
                _stream.Write(new byte[(int)(Align((ulong)tensor.ByteSize) - (ulong)tensor.ByteSize)]);
                _tensorIndex++;
                _writtenInTensor = 0;
                SkipEmptyTensors();
            }
        }
    }

    /// <summary>Checks that every tensor got all its bytes and flushes.</summary>
    public void Finish()
    {
        if (!_headerWritten)
        {
            WriteHeader();
        }
        if (_tensorIndex < _tensors.Count)
        {
            var tensor = _tensors[_tensorIndex];
            throw new InvalidOperationException(
                $"tensor \"{tensor.Name}\" got {_writtenInTensor} of its {tensor.ByteSize} bytes ({_tensors.Count - _tensorIndex} tensors incomplete)");
        }
        _stream.Flush();
    }

    private void SkipEmptyTensors()
    {
        while (_tensorIndex < _tensors.Count && _tensors[_tensorIndex].ByteSize == 0)
        {
            _tensorIndex++;
        }
    }

    private ulong Align(ulong value) => (value + (ulong)Alignment - 1) / (ulong)Alignment * (ulong)Alignment;

    private static void WriteScalar(Stream stream, GgufValueType type, object value)
    {
        Span<byte> buffer = stackalloc byte[8];
        switch (type)
        {
            case GgufValueType.UInt8: stream.WriteByte((byte)value); break;
            case GgufValueType.Int8: stream.WriteByte((byte)(sbyte)value); break;
            case GgufValueType.Bool: stream.WriteByte((bool)value ? (byte)1 : (byte)0); break;
            case GgufValueType.UInt16: BinaryPrimitives.WriteUInt16LittleEndian(buffer, (ushort)value); stream.Write(buffer[..2]); break;
            case GgufValueType.Int16: BinaryPrimitives.WriteInt16LittleEndian(buffer, (short)value); stream.Write(buffer[..2]); break;
            case GgufValueType.UInt32: WriteUInt32(stream, (uint)value); break;
            case GgufValueType.Int32: BinaryPrimitives.WriteInt32LittleEndian(buffer, (int)value); stream.Write(buffer[..4]); break;
            case GgufValueType.Float32: BinaryPrimitives.WriteSingleLittleEndian(buffer, (float)value); stream.Write(buffer[..4]); break;
            case GgufValueType.String: WriteString(stream, (string)value); break;
            case GgufValueType.UInt64: WriteUInt64(stream, (ulong)value); break;
            case GgufValueType.Int64: BinaryPrimitives.WriteInt64LittleEndian(buffer, (long)value); stream.Write(buffer); break;
            case GgufValueType.Float64: BinaryPrimitives.WriteDoubleLittleEndian(buffer, (double)value); stream.Write(buffer); break;
            default: throw new ArgumentOutOfRangeException(nameof(type), type, "not a scalar type");
        }
    }

    private static void WriteString(Stream stream, string value)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(value);
        WriteUInt64(stream, (ulong)bytes.Length);
        stream.Write(bytes);
    }

    private static void WriteUInt32(Stream stream, uint value)
    {
        Span<byte> buffer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(buffer, value);
        stream.Write(buffer);
    }

    private static void WriteUInt64(Stream stream, ulong value)
    {
        Span<byte> buffer = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(buffer, value);
        stream.Write(buffer);
    }
}
