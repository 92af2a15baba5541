namespace OrleansLlm.Native;

/// <summary>How a model's weight matrices are held (orleansllm.h ORLEANSLLM_DTYPE_* / ORLEANSLLM_WEIGHTS_*; docs/QUANTIZATION.md).</summary>
public enum WeightQuantization
{
    /// <summary>As the files store them.</summary>
    AsStored = 0,

    /// <summary>GGUF Q8_0: blocks of 32 weights, an fp16 scale and 32 int8 (8.5 bits per weight).</summary>
    Q8_0 = 3,

    /// <summary>GGUF Q4_0: blocks of 32 weights, an fp16 scale and 32 nibbles (4.5 bits per weight).</summary>
    Q4_0 = 4,

    /// <summary>llama.cpp's Q4_K_M mixture: Q4_K, with Q6_K for the LM head and some attn_v / ffn_down, and the
    /// Q5_0 / Q8_0 fallbacks for rows that are not whole 256-blocks (about 4.8 bits per weight).</summary>
    Q4_K_M = 15,
}

/// <summary>A block type the engine's quantizer writes (orleansllm.h ORLEANSLLM_DTYPE_*; GGUF's layouts).</summary>
public enum QuantizedType
{
    Q8_0 = 3,
    Q4_0 = 4,
    Q5_0 = 5,
    Q4_K = 7,
    Q6_K = 8,
}

/// <summary>The engine's quantizer (the one model loading uses), for converters that write quantized files.</summary>
public static class NativeQuantizer
{
    /// <summary>The names <see cref="Parse"/> accepts.</summary>
    public static readonly string[] Names = ["q8_0", "q4_0", "q4_k_m"];

    /// <summary>Parses "q8_0" / "q4_0" / "q4_k_m" (any case); null for anything else.</summary>
    public static WeightQuantization? Parse(string name) => name.ToLowerInvariant() switch
    {
        "q8_0" => WeightQuantization.Q8_0,
        "q4_0" => WeightQuantization.Q4_0,
        "q4_k_m" => WeightQuantization.Q4_K_M,
        _ => null,
    };

    /// <summary>The type <paramref name="weights"/> gives the GGUF tensor <paramref name="ggufName"/> (a matrix with rows of
    /// <paramref name="columns"/> elements in a model of <paramref name="layers"/> layers); null to keep it as stored.</summary>
    public static QuantizedType? TypeOf(WeightQuantization weights, string ggufName, long columns, int layers, bool tiedEmbeddings) =>
        weights switch
        {
            WeightQuantization.AsStored => null,
            WeightQuantization.Q4_K_M => NativeMethods.Q4KMTensorType(ggufName, columns, layers, tiedEmbeddings ? 1 : 0) switch
            {
                < 0 => throw new ArgumentException($"no Q4_K_M type for {ggufName} ({columns} columns, {layers} layers)"),
                0 => null,
                var t => (QuantizedType)t,
            },
            _ => columns % 32 == 0 ? (QuantizedType)(int)weights : null,
        };

    /// <summary>Bytes <paramref name="rows"/> × <paramref name="columns"/> weights take; -1 when the columns are not whole blocks.</summary>
    public static long QuantizedBytes(QuantizedType type, long rows, long columns) =>
        NativeMethods.QuantizedBytes((int)type, rows, columns);

    /// <summary>Quantizes <paramref name="rows"/> × <paramref name="columns"/> floats (row-major) into GGUF blocks
    /// in <paramref name="output"/>; throws <see cref="NativeException"/> on a bad shape or a short output.</summary>
    public static unsafe void Quantize(QuantizedType type, ReadOnlySpan<float> values, long rows, long columns, Span<byte> output)
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

    /// <summary>Decodes <paramref name="rows"/> × <paramref name="columns"/> weights of <paramref name="type"/> (GGUF blocks) into
    /// floats, to measure quantization error; throws <see cref="NativeException"/> on a bad shape.</summary>
    public static unsafe float[] Dequantize(QuantizedType type, ReadOnlySpan<byte> blocks, long rows, long columns)
    {
        if (blocks.Length != QuantizedBytes(type, rows, columns))
        {
            throw new ArgumentException($"{blocks.Length} bytes for {rows} x {columns} {type}", nameof(blocks));
        }
        var values = new float[rows * columns];
        fixed (byte* b = blocks)
        fixed (float* v = values)
        {
            NativeMethods.Check(NativeMethods.Dequantize((int)type, b, rows, columns, v));
        }
        return values;
    }
}
