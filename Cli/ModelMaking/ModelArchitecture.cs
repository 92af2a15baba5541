namespace OrleansLlm.Cli.ModelMaking;

/// <summary>The Llama-family variants make-model writes; each adds its features to a preset's shapes.</summary>
internal enum ModelArchitecture
{
    Llama,
    Mistral,
    Qwen2,
    Qwen3,
}

internal static class ModelArchitectures
{
    public static IReadOnlyList<string> Names { get; } = ["llama", "mistral", "qwen2", "qwen3"];

    public static string CliName(this ModelArchitecture architecture) => Names[(int)architecture];

    public static bool TryParse(string name, out ModelArchitecture architecture)
    {
        int index = Names.ToList().IndexOf(name.ToLowerInvariant());
        architecture = index < 0 ? default : (ModelArchitecture)index;
        return index >= 0;
    }

    /// <summary>The `model_type` transformers writes into config.json.</summary>
    public static string ModelType(this ModelArchitecture architecture) => architecture.CliName();

    /// <summary>The `architectures[0]` class name transformers writes into config.json.</summary>
    public static string HfClassName(this ModelArchitecture architecture) => architecture switch
    {
        ModelArchitecture.Llama => "LlamaForCausalLM",
        ModelArchitecture.Mistral => "MistralForCausalLM",
        ModelArchitecture.Qwen2 => "Qwen2ForCausalLM",
        ModelArchitecture.Qwen3 => "Qwen3ForCausalLM",
        _ => throw new ArgumentOutOfRangeException(nameof(architecture)),
    };

    /// <summary>Qwen2 always carries biases on the q, k and v projections (not on o).</summary>
    public static bool HasQkvBias(this ModelArchitecture architecture) => architecture == ModelArchitecture.Qwen2;

    /// <summary>Qwen3 normalises each query and key head with its own RMSNorm weight.</summary>
    public static bool HasQkNorm(this ModelArchitecture architecture) => architecture == ModelArchitecture.Qwen3;
}
