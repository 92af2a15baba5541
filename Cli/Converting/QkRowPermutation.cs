namespace OrleansLlm.Cli.Converting;

/// <summary>
/// The Q/K row order of GGUF `llama` files (docs/GGUF.md): llama.cpp rotates adjacent pairs, HF
/// Llama rotates halves, so within each head of d rows GGUF row 2i + j is HF row j·d/2 + i.
/// </summary>
internal static class QkRowPermutation
{
    /// <summary>The HF row that GGUF row <paramref name="ggufRow"/> holds.</summary>
    public static int SourceRow(int ggufRow, int headDim)
    {
        int head = ggufRow / headDim;
        int within = ggufRow % headDim;
        int i = within / 2;
        int j = within % 2;
        return head * headDim + j * (headDim / 2) + i;
    }

    /// <summary>Rows of <paramref name="rowBytes"/> bytes each (a weight row, or one element of a bias), reordered.</summary>
    /// <param name="source">[headCount × headDim rows, rowBytes]</param>
    public static byte[] Apply(ReadOnlySpan<byte> source, int headCount, int headDim, int rowBytes)
    {
        int rows = headCount * headDim;
        if (source.Length != (long)rows * rowBytes || headDim % 2 != 0)
        {
            throw new ConversionException(
                $"cannot permute {source.Length} bytes as {headCount} heads of {headDim} rows of {rowBytes} bytes");
        }
        var result = new byte[source.Length];
        for (int row = 0; row < rows; row++)
        {
            source.Slice(SourceRow(row, headDim) * rowBytes, rowBytes).CopyTo(result.AsSpan(row * rowBytes, rowBytes));
        }
        return result;
    }
}
