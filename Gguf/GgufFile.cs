namespace OrleansLlm.Gguf;

/// <summary>
/// What a GGUF file's header says: version, metadata, tensor infos, and where the tensor data
/// starts (<see cref="DataStart"/>, absolute in the file; a tensor's bytes are at DataStart + Offset).
/// </summary>
public sealed record GgufFile(string Path, uint Version, GgufMetadata Metadata, IReadOnlyList<GgufTensorInfo> Tensors, long DataStart, int Alignment)
{
    public const string AlignmentKey = "general.alignment";
    public const string ArchitectureKey = "general.architecture";
    public const int DefaultAlignment = 32;

    /// <summary>The tensor called <paramref name="name"/>, or null.</summary>
    public GgufTensorInfo? Tensor(string name) => Tensors.FirstOrDefault(t => t.Name == name);

    /// <summary>Reads one tensor's bytes (small tensors and tests; large ones stream with <see cref="OpenTensor"/>).</summary>
    public byte[] ReadTensorBytes(GgufTensorInfo tensor)
    {
        using var stream = OpenTensor(tensor);
        var bytes = new byte[tensor.ByteSize];
        stream.ReadExactly(bytes);
        return bytes;
    }

    /// <summary>A stream positioned at the first byte of <paramref name="tensor"/>.</summary>
    public Stream OpenTensor(GgufTensorInfo tensor)
    {
        var stream = File.OpenRead(Path);
        stream.Position = DataStart + (long)tensor.Offset;
        return stream;
    }
}
