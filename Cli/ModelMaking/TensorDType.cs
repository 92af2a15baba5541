namespace OrleansLlm.Cli.ModelMaking;

/// <summary>Element types make-model writes; every tensor of a model has the same one.</summary>
internal enum TensorDType
{
    F32,
    F16,
    BF16,
}

internal static class TensorDTypes
{
    public static IReadOnlyList<string> Names { get; } = ["f32", "f16", "bf16"];

    public static string CliName(this TensorDType dtype) => Names[(int)dtype];

    public static bool TryParse(string name, out TensorDType dtype)
    {
        int index = Names.ToList().IndexOf(name.ToLowerInvariant());
        dtype = index < 0 ? default : (TensorDType)index;
        return index >= 0;
    }

    public static int ByteSize(this TensorDType dtype) => dtype == TensorDType.F32 ? 4 : 2;

    /// <summary>The `dtype` string of a safetensors header entry.</summary>
    public static string SafetensorsName(this TensorDType dtype) => dtype switch
    {
        TensorDType.F32 => "F32",
        TensorDType.F16 => "F16",
        TensorDType.BF16 => "BF16",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    /// <summary>The `torch_dtype` string of config.json.</summary>
    public static string TorchName(this TensorDType dtype) => dtype switch
    {
        TensorDType.F32 => "float32",
        TensorDType.F16 => "float16",
        TensorDType.BF16 => "bfloat16",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };
}
