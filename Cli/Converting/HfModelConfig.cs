using System.Text.Json;

namespace OrleansLlm.Cli.Converting;

/// <summary>rope_scaling of type llama3 (Llama 3.1/3.2).</summary>
internal sealed record Llama3RopeScalingConfig(double Factor, double LowFreqFactor, double HighFreqFactor, int OriginalMaxPositionEmbeddings);

/// <summary>What the converter needs from a Hugging Face config.json; defaults as transformers applies them.</summary>
internal sealed record HfModelConfig(
    string ModelType,
    int HiddenSize,
    int LayerCount,
    int IntermediateSize,
    int HeadCount,
    int KvHeadCount,
    int HeadDim,
    int MaxPositionEmbeddings,
    double RmsNormEps,
    double RopeTheta,
    int VocabSize,
    bool TieWordEmbeddings,
    Llama3RopeScalingConfig? RopeScaling)
{
    public const string FileName = "config.json";

    /// <summary>The GGUF `general.architecture` of a transformers model_type (Mistral is written as llama, as llama.cpp does).</summary>
    public static string? GgufArchitecture(string modelType) => modelType switch
    {
        "llama" or "mistral" => "llama",
        "qwen2" => "qwen2",
        "qwen3" => "qwen3",
        _ => null,
    };

    public static HfModelConfig Read(string directory)
    {
        string path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
        {
            throw new ConversionException($"{directory} has no {FileName}");
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException e)
        {
            throw new ConversionException($"{path} is not valid JSON: {e.Message}", e);
        }
        using (document)
        {
            var root = document.RootElement;
            try
            {
                string modelType = root.TryGetProperty("model_type", out var type) ? type.GetString() ?? "" : "";
                if (GgufArchitecture(modelType) is null)
                {
                    throw new ConversionException(
                        $"{path}: model_type \"{modelType}\" is not supported (llama, mistral, qwen2, qwen3)");
                }
                int hidden = Int(root, "hidden_size");
                int heads = Int(root, "num_attention_heads");
                return new HfModelConfig(
                    modelType,
                    hidden,
                    Int(root, "num_hidden_layers"),
                    Int(root, "intermediate_size"),
                    heads,
                    OptionalInt(root, "num_key_value_heads") ?? heads,
                    OptionalInt(root, "head_dim") ?? hidden / heads,
                    Int(root, "max_position_embeddings"),
                    root.GetProperty("rms_norm_eps").GetDouble(),
                    Optional(root, "rope_theta")?.GetDouble() ?? 10000.0,
                    Int(root, "vocab_size"),
                    Optional(root, "tie_word_embeddings")?.GetBoolean() ?? false,
                    ReadRopeScaling(root, path));
            }
            catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
            {
                throw new ConversionException($"{path}: {e.Message}", e);
            }
        }
    }

    private static Llama3RopeScalingConfig? ReadRopeScaling(JsonElement root, string path)
    {
        if (Optional(root, "rope_scaling") is not { } scaling)
        {
            return null;
        }
        string? type = (Optional(scaling, "rope_type") ?? Optional(scaling, "type"))?.GetString();
        if (type == "default")
        {
            return null;
        }
        if (type != "llama3")
        {
            throw new ConversionException($"{path}: rope_scaling of type \"{type}\" is not supported (only llama3)");
        }
        return new Llama3RopeScalingConfig(
            scaling.GetProperty("factor").GetDouble(),
            scaling.GetProperty("low_freq_factor").GetDouble(),
            scaling.GetProperty("high_freq_factor").GetDouble(),
            Int(scaling, "original_max_position_embeddings"));
    }

    private static JsonElement? Optional(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    private static int? OptionalInt(JsonElement element, string name) => Optional(element, name)?.GetInt32();

    private static int Int(JsonElement element, string name) =>
        OptionalInt(element, name) ?? throw new KeyNotFoundException($"{name} is missing");
}
