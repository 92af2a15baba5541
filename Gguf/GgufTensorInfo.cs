namespace OrleansLlm.Gguf;

/// <summary>
/// One tensor of a GGUF file. <see cref="Dimensions"/> is `ne`: innermost (contiguous) first, so an
/// HF weight of shape [out, in] has dimensions [in, out]. <see cref="Offset"/> is relative to the
/// start of the tensor data.
/// </summary>
public sealed record GgufTensorInfo(string Name, IReadOnlyList<ulong> Dimensions, GgufTensorType Type, ulong Offset)
{
    public ulong ElementCount => Dimensions.Aggregate(1UL, (product, dim) => product * dim);

    /// <summary>Bytes of the tensor's data: rows of <c>Dimensions[0]</c> elements.</summary>
    public long ByteSize => Type.RowBytes((long)Dimensions[0]) * (long)(ElementCount / Math.Max(1, Dimensions[0]));

    /// <summary>The shape in HF (row-major, outermost first) order.</summary>
    public long[] HfShape => Dimensions.Reverse().Select(d => (long)d).ToArray();
}
