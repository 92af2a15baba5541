using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace OrleansLlm.Cli.ModelMaking;

/// <summary>Token ids config.json and generation_config.json name; null where the tokenizer has none.</summary>
internal sealed record SpecialTokenIds(int? BosTokenId, int? EosTokenId);

/// <summary>Writes config.json and generation_config.json with the keys transformers writes for each
/// architecture (sorted, two-space indented, floats in Python's notation, as `save_pretrained` does).</summary>
internal static class HfConfigFiles
{
    /// <summary>The transformers release whose config schema these files follow (the first with Qwen3).</summary>
    public const string TransformersVersion = "4.51.0";

    public static string ConfigJson(ModelSpec spec, SpecialTokenIds tokenIds)
    {
        var p = spec.Preset;
        var arch = spec.Architecture;
        var keys = new SortedDictionary<string, JsonNode?>(StringComparer.Ordinal)
        {
            ["architectures"] = new JsonArray(arch.HfClassName()),
            ["attention_dropout"] = Float(0.0),
            ["bos_token_id"] = tokenIds.BosTokenId,
            ["eos_token_id"] = tokenIds.EosTokenId,
            ["head_dim"] = p.HeadDim,
            ["hidden_act"] = "silu",
            ["hidden_size"] = p.HiddenSize,
            ["initializer_range"] = Float(0.02),
            ["intermediate_size"] = p.IntermediateSize,
            ["max_position_embeddings"] = p.MaxPositionEmbeddings,
            ["model_type"] = arch.ModelType(),
            ["num_attention_heads"] = p.HeadCount,
            ["num_hidden_layers"] = p.LayerCount,
            ["num_key_value_heads"] = p.KvHeadCount,
            ["rms_norm_eps"] = Float(p.RmsNormEps),
            ["rope_scaling"] = RopeScaling(p.RopeScaling),
            ["rope_theta"] = Float(p.RopeTheta),
            ["tie_word_embeddings"] = p.TieWordEmbeddings,
            ["torch_dtype"] = spec.DType.TorchName(),
            ["transformers_version"] = TransformersVersion,
            ["use_cache"] = true,
            ["vocab_size"] = p.VocabSize,
        };
        switch (arch)
        {
            case ModelArchitecture.Llama:
                keys["attention_bias"] = false;
                keys["mlp_bias"] = false;
                keys["pretraining_tp"] = 1;
                break;
            case ModelArchitecture.Mistral:
                // MistralForCausalLM applies sliding-window attention when sliding_window is set.
                keys["sliding_window"] = null;
                break;
            case ModelArchitecture.Qwen2:
                // Qwen2's q/k/v biases are implied by the architecture; there is no attention_bias key.
                keys["max_window_layers"] = p.LayerCount;
                keys["sliding_window"] = p.MaxPositionEmbeddings;
                keys["use_sliding_window"] = false;
                break;
            case ModelArchitecture.Qwen3:
                keys["attention_bias"] = false;
                keys["max_window_layers"] = p.LayerCount;
                keys["sliding_window"] = null;
                keys["use_sliding_window"] = false;
                break;
        }
        return Serialize(keys);
    }

    public static string GenerationConfigJson(SpecialTokenIds tokenIds)
    {
        var keys = new SortedDictionary<string, JsonNode?>(StringComparer.Ordinal)
        {
            ["_from_model_config"] = true,
            ["bos_token_id"] = tokenIds.BosTokenId,
            ["eos_token_id"] = tokenIds.EosTokenId,
            ["transformers_version"] = TransformersVersion,
        };
        return Serialize(keys);
    }

    private static JsonNode? RopeScaling(Llama3RopeScaling? scaling) => scaling is null
        ? null
        : new JsonObject
        {
            ["factor"] = Float(scaling.Factor),
            ["high_freq_factor"] = Float(scaling.HighFreqFactor),
            ["low_freq_factor"] = Float(scaling.LowFreqFactor),
            ["original_max_position_embeddings"] = scaling.OriginalMaxPositionEmbeddings,
            ["rope_type"] = "llama3",
        };

    /// <summary>A float written as Python's repr writes it (500000.0, 1e-05), so a float never reads back as an int.</summary>
    internal static JsonNode Float(double value)
    {
        string text = Math.Abs(value) < 1e16 && value == Math.Floor(value)
            ? value.ToString("0.0", CultureInfo.InvariantCulture)
            : value.ToString("R", CultureInfo.InvariantCulture).ToLowerInvariant();
        return JsonNode.Parse(text)!;
    }

    private static string Serialize(SortedDictionary<string, JsonNode?> keys)
    {
        var root = new JsonObject();
        foreach (var (key, value) in keys)
        {
            root[key] = value;
        }
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }
}
