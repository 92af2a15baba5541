using System.Text.Json.Nodes;
using OrleansLlm.Cli.ModelMaking;

namespace OrleansLlm.Cli.Tests;

/// <summary>Presets against the published figures of the models they copy, and the config.json
/// each architecture gets. Only shapes and configs are computed here; no large model is written.</summary>
public class ModelPresetTests
{
    private static long ParameterCount(string preset) =>
        new ModelSpec(Preset(preset), Preset(preset).NaturalArchitecture, TensorDType.BF16).Tensors().Sum(t => t.ElementCount);

    private static ModelPreset Preset(string name)
    {
        Assert.True(ModelPresets.TryGet(name, out var preset), $"no preset {name}");
        return preset;
    }

    private static JsonObject Config(string preset, ModelArchitecture? architecture = null, TensorDType dtype = TensorDType.BF16)
    {
        var p = Preset(preset);
        var spec = new ModelSpec(p, architecture ?? p.NaturalArchitecture, dtype);
        return JsonNode.Parse(HfConfigFiles.ConfigJson(spec, new SpecialTokenIds(p.BosTokenId, p.EosTokenId)))!.AsObject();
    }

    // Parameter counts as the model cards and transformers' num_parameters() report them.
    [Theory]
    [InlineData("smollm2-135m", 134_515_008L)]
    [InlineData("llama3-1b", 1_235_814_400L)]
    [InlineData("llama3-8b", 8_030_261_248L)]
    public void Preset_shapes_give_the_published_parameter_count(string preset, long parameters)
    {
        Assert.Equal(parameters, ParameterCount(preset));
    }

    [Fact]
    public void Qwen3_0_6B_has_the_published_non_embedding_parameter_count()
    {
        // The Qwen3-0.6B card: 0.44B parameters without the (tied) embedding.
        long nonEmbedding = ParameterCount("qwen3-0.6b") - 151936L * 1024;
        Assert.InRange(nonEmbedding, 435_000_000, 445_000_000);
    }

    [Fact]
    public void Tiny_is_a_few_megabytes()
    {
        var spec = new ModelSpec(ModelPresets.Tiny, ModelArchitecture.Llama, TensorDType.F32);
        Assert.InRange(spec.WeightBytes, 1_000_000, 8_000_000);
    }

    [Theory]
    [InlineData("smollm2-135m", "LlamaForCausalLM", 576, 1536, 30, 9, 3, 64, 49152, 8192, true, 100000.0, 1e-5)]
    [InlineData("qwen3-0.6b", "Qwen3ForCausalLM", 1024, 3072, 28, 16, 8, 128, 151936, 40960, true, 1000000.0, 1e-6)]
    [InlineData("llama3-1b", "LlamaForCausalLM", 2048, 8192, 16, 32, 8, 64, 128256, 131072, true, 500000.0, 1e-5)]
    [InlineData("llama3-8b", "LlamaForCausalLM", 4096, 14336, 32, 32, 8, 128, 128256, 131072, false, 500000.0, 1e-5)]
    public void Config_json_states_the_preset(string preset, string hfClass, int hidden, int intermediate, int layers,
        int heads, int kvHeads, int headDim, int vocab, int maxPositions, bool tied, double ropeTheta, double eps)
    {
        var config = Config(preset);
        Assert.Equal(hfClass, (string?)config["architectures"]![0]);
        Assert.Equal(hidden, (int)config["hidden_size"]!);
        Assert.Equal(intermediate, (int)config["intermediate_size"]!);
        Assert.Equal(layers, (int)config["num_hidden_layers"]!);
        Assert.Equal(heads, (int)config["num_attention_heads"]!);
        Assert.Equal(kvHeads, (int)config["num_key_value_heads"]!);
        Assert.Equal(headDim, (int)config["head_dim"]!);
        Assert.Equal(vocab, (int)config["vocab_size"]!);
        Assert.Equal(maxPositions, (int)config["max_position_embeddings"]!);
        Assert.Equal(tied, (bool)config["tie_word_embeddings"]!);
        Assert.Equal(ropeTheta, (double)config["rope_theta"]!);
        Assert.Equal(eps, (double)config["rms_norm_eps"]!);
        Assert.Equal("bfloat16", (string?)config["torch_dtype"]);
        Assert.Equal("silu", (string?)config["hidden_act"]);
    }

    [Theory]
    [InlineData("llama3-1b", 32.0)]
    [InlineData("llama3-8b", 8.0)]
    public void Llama3_presets_carry_llama3_rope_scaling(string preset, double factor)
    {
        var scaling = Config(preset)["rope_scaling"]!.AsObject();
        Assert.Equal("llama3", (string?)scaling["rope_type"]);
        Assert.Equal(factor, (double)scaling["factor"]!);
        Assert.Equal(1.0, (double)scaling["low_freq_factor"]!);
        Assert.Equal(4.0, (double)scaling["high_freq_factor"]!);
        Assert.Equal(8192, (int)scaling["original_max_position_embeddings"]!);
    }

    [Theory]
    [InlineData("smollm2-135m")]
    [InlineData("qwen3-0.6b")]
    [InlineData("tiny")]
    public void Other_presets_have_no_rope_scaling(string preset)
    {
        var config = Config(preset);
        Assert.True(config.ContainsKey("rope_scaling"));
        Assert.Null(config["rope_scaling"]);
    }

    [Fact]
    public void Each_architecture_writes_its_own_keys()
    {
        var llama = Config("tiny", ModelArchitecture.Llama);
        Assert.Equal("llama", (string?)llama["model_type"]);
        Assert.False((bool)llama["attention_bias"]!);
        Assert.False(llama.ContainsKey("sliding_window"));

        var mistral = Config("tiny", ModelArchitecture.Mistral);
        Assert.Equal("MistralForCausalLM", (string?)mistral["architectures"]![0]);
        Assert.Equal("mistral", (string?)mistral["model_type"]);
        Assert.True(mistral.ContainsKey("sliding_window"));
        Assert.Null(mistral["sliding_window"]);

        var qwen2 = Config("tiny", ModelArchitecture.Qwen2);
        Assert.Equal("Qwen2ForCausalLM", (string?)qwen2["architectures"]![0]);
        Assert.False(qwen2.ContainsKey("attention_bias"));
        Assert.False((bool)qwen2["use_sliding_window"]!);

        var qwen3 = Config("smollm2-135m", ModelArchitecture.Qwen3);
        Assert.Equal("qwen3", (string?)qwen3["model_type"]);
        Assert.Equal(576, (int)qwen3["hidden_size"]!);
        Assert.False((bool)qwen3["use_sliding_window"]!);
        Assert.Null(qwen3["sliding_window"]);
    }

    [Fact]
    public void Config_keys_are_sorted_and_floats_stay_floats()
    {
        var p = ModelPresets.Llama3_8B;
        string json = HfConfigFiles.ConfigJson(new ModelSpec(p, ModelArchitecture.Llama, TensorDType.F16), new SpecialTokenIds(1, 2));
        var keys = JsonNode.Parse(json)!.AsObject().Select(k => k.Key).ToList();
        Assert.Equal(keys.OrderBy(k => k, StringComparer.Ordinal), keys);
        Assert.Contains("\"rope_theta\": 500000.0", json);
        Assert.Contains("\"factor\": 8.0", json);
        Assert.Contains("\"rms_norm_eps\": 1e-05", json);
        Assert.Contains("\"torch_dtype\": \"float16\"", json);
    }

    [Theory]
    [InlineData("llama", false, false)]
    [InlineData("mistral", false, false)]
    [InlineData("qwen2", true, false)]
    [InlineData("qwen3", false, true)]
    public void Architecture_features_decide_the_tensors(string architectureName, bool qkvBias, bool qkNorm)
    {
        Assert.True(ModelArchitectures.TryParse(architectureName, out var architecture));
        var names = new ModelSpec(ModelPresets.Tiny, architecture, TensorDType.BF16).Tensors().Select(t => t.Name).ToHashSet();
        Assert.Equal(qkvBias, names.Contains("model.layers.1.self_attn.k_proj.bias"));
        Assert.DoesNotContain("model.layers.0.self_attn.o_proj.bias", names);
        Assert.Equal(qkNorm, names.Contains("model.layers.1.self_attn.q_norm.weight"));
        Assert.Contains("lm_head.weight", names);
        Assert.Contains("model.norm.weight", names);
    }

    [Fact]
    public void Tied_presets_have_no_lm_head_and_shapes_follow_head_dim()
    {
        var tensors = new ModelSpec(ModelPresets.Qwen3_0_6B, ModelArchitecture.Qwen3, TensorDType.BF16).Tensors()
            .ToDictionary(t => t.Name);
        Assert.False(tensors.ContainsKey("lm_head.weight"));
        Assert.Equal([16L * 128, 1024], tensors["model.layers.0.self_attn.q_proj.weight"].Shape);
        Assert.Equal([8L * 128, 1024], tensors["model.layers.0.self_attn.k_proj.weight"].Shape);
        Assert.Equal([1024L, 16 * 128], tensors["model.layers.0.self_attn.o_proj.weight"].Shape);
        Assert.Equal([128L], tensors["model.layers.27.self_attn.k_norm.weight"].Shape);
        Assert.Equal([1024L, 3072], tensors["model.layers.0.mlp.down_proj.weight"].Shape);
    }
}
