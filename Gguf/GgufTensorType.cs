namespace OrleansLlm.Gguf;

/// <summary>The `ggml_type` of a tensor: the ones docs/GGUF.md lists; any other is refused by number.</summary>
public enum GgufTensorType : uint
{
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q4_K = 12,
    Q6_K = 14,
    BF16 = 30,
}

public static class GgufTensorTypes
{
    /// <summary>Whether we know the block layout of <paramref name="type"/>.</summary>
    public static bool IsKnown(this GgufTensorType type) => type.BlockLayout().Elements != 0;

    /// <summary>Elements per block and bytes per block (1 element per block for the float types).</summary>
    public static (int Elements, int Bytes) BlockLayout(this GgufTensorType type) => type switch
    {
        GgufTensorType.F32 => (1, 4),
        GgufTensorType.F16 => (1, 2),
        GgufTensorType.BF16 => (1, 2),
        GgufTensorType.Q8_0 => (32, 34),
        GgufTensorType.Q4_0 => (32, 18),
        GgufTensorType.Q5_0 => (32, 22),
        GgufTensorType.Q5_1 => (32, 24),
        GgufTensorType.Q4_K => (256, 144),
        GgufTensorType.Q6_K => (256, 210),
        _ => (0, 0),
    };

    /// <summary>Bytes of one row of <paramref name="elements"/> elements; the row must be whole blocks.</summary>
    public static long RowBytes(this GgufTensorType type, long elements)
    {
        var (blockElements, blockBytes) = type.BlockLayout();
        if (blockElements == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(type), type, "unknown tensor type");
        }
        if (elements % blockElements != 0)
        {
            throw new ArgumentException($"a row of {elements} elements is not whole {type} blocks of {blockElements}", nameof(elements));
        }
        return elements / blockElements * blockBytes;
    }
}
