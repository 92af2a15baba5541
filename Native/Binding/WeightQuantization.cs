namespace OrleansLlm.Native;

/// <summary>How a model's weight matrices are held (orleansllm.h ORLEANSLLM_DTYPE_*; docs/QUANTIZATION.md).</summary>
public enum WeightQuantization
{
    /// <summary>As the files store them.</summary>
    AsStored = 0,

    /// <summary>GGUF Q8_0: blocks of 32 weights, an fp16 scale and 32 int8 (8.5 bits per weight).</summary>
    Q8_0 = 3,

    /// <summary>GGUF Q4_0: blocks of 32 weights, an fp16 scale and 32 nibbles (4.5 bits per weight).</summary>
    Q4_0 = 4,
}

/// <summary>The engine's quantizer (the one model loading uses), for converters that write quantized files.</summary>
public static class NativeQuantizer
{
    /// <summary>Parses "q8_0" / "q4_0" (any case); null for anything else.</summary>
    public static WeightQuantization? Parse(string name) => name.ToLowerInvariant() switch
    {
        "q8_0" => WeightQuantization.Q8_0,
        "q4_0" => WeightQuantization.Q4_0,
        _ => null,
    };

    /// <summary>Bytes <paramref name="rows"/> × <paramref name="columns"/> weights take; -1 when the columns are not whole blocks.</summary>
    public static long QuantizedBytes(WeightQuantization type, long rows, long columns) =>
        NativeMethods.QuantizedBytes((int)type, rows, columns);

    /// <summary>Quantizes <paramref name="rows"/> × <paramref name="columns"/> floats (row-major) into GGUF blocks
    /// in <paramref name="output"/>; throws <see cref="NativeException"/> on a bad shape or a short output.</summary>
    public static unsafe void Quantize(WeightQuantization type, ReadOnlySpan<float> values, long rows, long columns, Span<byte> output)
    {
        if (values.Length != rows * columns)
        {
            throw new ArgumentException($"{values.Length} values for {rows} x {columns}", nameof(values));
        }
        fixed (float* x = values)
        fixed (byte* o = output)
        {
            NativeMethods.Check(NativeMethods.Quantize((int)type, x, rows, columns, o, output.Length));
        }
    }
}
