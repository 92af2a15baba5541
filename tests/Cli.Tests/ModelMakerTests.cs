using System.Text.Json;
using System.Text.Json.Nodes;
using OrleansLlm.Cli.ModelMaking;

namespace OrleansLlm.Cli.Tests;

public sealed class ModelMakerTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private ModelMakeRequest Request(string name, ulong seed = 1, ModelArchitecture architecture = ModelArchitecture.Llama,
        TensorDType dtype = TensorDType.BF16) =>
        new(new ModelSpec(ModelPresets.Tiny, architecture, dtype), seed, _temp.Sub(name), null, Force: false);

    private static string Make(ModelMakeRequest request)
    {
        new ModelMaker(request).Run(null, CancellationToken.None);
        return request.OutDirectory;
    }

    private static Dictionary<string, byte[]> Files(string directory) =>
        Directory.EnumerateFiles(directory).ToDictionary(path => Path.GetFileName(path), File.ReadAllBytes);

    [Fact]
    public void Writes_the_hugging_face_files()
    {
        string dir = Make(Request("m"));
        Assert.Equal(
            ["config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"],
            Directory.EnumerateFiles(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Same_seed_gives_identical_files_whatever_the_thread_count()
    {
        var one = Files(Make(Request("a", seed: 42) with { ThreadCount = 1 }));
        var many = Files(Make(Request("b", seed: 42) with { ThreadCount = 4 }));
        Assert.Equal(one.Keys.Order(), many.Keys.Order());
        foreach (var (name, bytes) in one)
        {
            Assert.True(bytes.AsSpan().SequenceEqual(many[name]), $"{name} differs between two runs with seed 42");
        }
    }

    [Fact]
    public void Different_seeds_give_different_weights_but_the_same_config()
    {
        var a = Files(Make(Request("a", seed: 1)));
        var b = Files(Make(Request("b", seed: 2)));
        Assert.Equal(a["config.json"], b["config.json"]);
        Assert.Equal(a["tokenizer.json"], b["tokenizer.json"]);
        Assert.False(a["model.safetensors"].AsSpan().SequenceEqual(b["model.safetensors"]));
    }

    [Theory]
    [InlineData("llama", "f32")]
    [InlineData("qwen2", "f16")]
    [InlineData("qwen3", "bf16")]
    [InlineData("mistral", "bf16")]
    public void Every_tensor_in_the_file_has_the_bytes_its_shape_and_dtype_need(string architectureName, string dtypeName)
    {
        Assert.True(ModelArchitectures.TryParse(architectureName, out var architecture));
        Assert.True(TensorDTypes.TryParse(dtypeName, out var dtype));
        var request = Request("m", architecture: architecture, dtype: dtype);
        string dir = Make(request);
        var file = SafetensorsFile.Read(Path.Combine(dir, "model.safetensors"));
        Assert.Equal(0, file.DataStart % 8);
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal(request.Spec.Tensors().Select(t => t.Name).Order(StringComparer.Ordinal),
            file.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal));
        foreach (var tensor in file.Tensors)
        {
            Assert.Equal(dtype.SafetensorsName(), tensor.DType);
            Assert.Equal(tensor.Shape.Aggregate(1L, (a, b) => a * b) * SafetensorsFile.DTypeSize(tensor.DType), tensor.End - tensor.Begin);
        }
        Assert.Equal(file.DataStart + file.Tensors.Max(t => t.End), file.FileLength);
    }

    [Fact]
    public void Stored_values_are_the_generator_values_at_the_header_offsets()
    {
        var request = Request("m", seed: 9, dtype: TensorDType.F32);
        string dir = Make(request);
        string path = Path.Combine(dir, "model.safetensors");
        var file = SafetensorsFile.Read(path);
        var bytes = File.ReadAllBytes(path);
        foreach (var tensor in request.Spec.Tensors().Where(t => t.Name is "model.norm.weight" or "model.layers.1.mlp.down_proj.weight"))
        {
            var entry = file.Tensors.Single(e => e.Name == tensor.Name);
            var expected = new byte[tensor.ElementCount * 4];
            WeightGenerator.Fill(expected, tensor, 9, TensorDType.F32, 0, (int)tensor.ElementCount);
            Assert.True(expected.AsSpan().SequenceEqual(bytes.AsSpan((int)(file.DataStart + entry.Begin), (int)(entry.End - entry.Begin))));
        }
        var norm = file.Tensors.Single(e => e.Name == "model.norm.weight");
        float first = BitConverter.ToSingle(bytes, (int)(file.DataStart + norm.Begin));
        Assert.InRange(first, 0.9f, 1.1f);
    }

    [Fact]
    public void Sharded_model_has_an_index_covering_every_tensor_in_the_file_that_holds_it()
    {
        var request = Request("m", architecture: ModelArchitecture.Qwen3) with { MaxShardBytes = 300_000 };
        string dir = Make(request);
        Assert.False(File.Exists(Path.Combine(dir, "model.safetensors")));
        using var index = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "model.safetensors.index.json")));
        var weightMap = index.RootElement.GetProperty("weight_map").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
        var shardFiles = Directory.EnumerateFiles(dir, "*.safetensors").Select(path => Path.GetFileName(path)).Order(StringComparer.Ordinal).ToList();
        Assert.True(shardFiles.Count > 2);
        Assert.Equal(shardFiles, weightMap.Values.Distinct().Order(StringComparer.Ordinal));

        long totalTensorBytes = 0;
        var seen = new HashSet<string>();
        foreach (string shard in shardFiles)
        {
            var file = SafetensorsFile.Read(Path.Combine(dir, shard));
            Assert.Equal(file.DataStart + file.Tensors.Max(t => t.End), file.FileLength);
            foreach (var tensor in file.Tensors)
            {
                Assert.Equal(shard, weightMap[tensor.Name]);
                Assert.True(seen.Add(tensor.Name), $"{tensor.Name} is in two shards");
                totalTensorBytes += tensor.End - tensor.Begin;
            }
        }
        Assert.Equal(request.Spec.Tensors().Select(t => t.Name).ToHashSet(), seen);
        Assert.Equal(weightMap.Keys.ToHashSet(), seen);
        Assert.Equal(totalTensorBytes, index.RootElement.GetProperty("metadata").GetProperty("total_size").GetInt64());
    }

    [Fact]
    public void Config_and_generation_config_name_the_synthetic_tokenizers_specials()
    {
        string dir = Make(Request("m"));
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!;
        var generation = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "generation_config.json")))!;
        var tokenizer = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "tokenizer.json")))!;
        var tokenizerConfig = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "tokenizer_config.json")))!;
        var added = tokenizer["added_tokens"]!.AsArray().ToDictionary(t => (string)t!["content"]!, t => (int)t!["id"]!);
        Assert.Equal(added[(string)tokenizerConfig["bos_token"]!], (int)config["bos_token_id"]!);
        Assert.Equal(added[(string)tokenizerConfig["eos_token"]!], (int)config["eos_token_id"]!);
        Assert.Equal((int)config["bos_token_id"]!, (int)generation["bos_token_id"]!);
        Assert.Equal((int)config["eos_token_id"]!, (int)generation["eos_token_id"]!);
        Assert.Equal((int)config["vocab_size"]! - 1, added.Values.Max());
    }

    [Fact]
    public void A_non_empty_folder_is_refused_without_force_and_cleaned_of_old_shards_with_it()
    {
        string dir = Make(Request("m") with { MaxShardBytes = 300_000 });
        File.WriteAllText(Path.Combine(dir, "notes.txt"), "keep me");
        var refused = Assert.Throws<ModelMakingException>(() => Make(Request("m")));
        Assert.Contains("--force", refused.Message);

        Make(Request("m") with { Force = true });
        Assert.Equal(
            ["config.json", "generation_config.json", "model.safetensors", "notes.txt", "tokenizer.json", "tokenizer_config.json"],
            Directory.EnumerateFiles(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void An_output_path_below_a_file_fails_with_a_clear_message()
    {
        string file = _temp.Sub("a-file");
        File.WriteAllText(file, "x");
        var error = Assert.Throws<ModelMakingException>(() =>
            Make(new ModelMakeRequest(new ModelSpec(ModelPresets.Tiny, ModelArchitecture.Llama, TensorDType.BF16), 1,
                Path.Combine(file, "model"), null, false)));
        Assert.Contains("cannot create output folder", error.Message);

        var isFile = Assert.Throws<ModelMakingException>(() =>
            Make(new ModelMakeRequest(new ModelSpec(ModelPresets.Tiny, ModelArchitecture.Llama, TensorDType.BF16), 1, file, null, false)));
        Assert.Contains("is a file", isFile.Message);
    }

    private string WriteTokenizer(string name, int vocabCount, string? bos, string? eos)
    {
        string dir = _temp.Sub(name);
        Directory.CreateDirectory(dir);
        var vocab = new JsonObject();
        for (int i = 0; i < vocabCount; i++)
        {
            vocab["t" + i] = i;
        }
        var tokenizer = new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = new JsonArray(
                new JsonObject { ["id"] = vocabCount, ["content"] = "<s>", ["special"] = true },
                new JsonObject { ["id"] = vocabCount + 1, ["content"] = "</s>", ["special"] = true }),
            ["model"] = new JsonObject { ["type"] = "BPE", ["vocab"] = vocab, ["merges"] = new JsonArray() },
        };
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), tokenizer.ToJsonString());
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"),
            new JsonObject { ["bos_token"] = bos, ["eos_token"] = eos is null ? null : new JsonObject { ["content"] = eos } }.ToJsonString());
        File.WriteAllText(Path.Combine(dir, "special_tokens_map.json"), "{}");
        return dir;
    }

    [Fact]
    public void A_real_tokenizer_is_copied_and_its_specials_become_the_config_ids()
    {
        string tokenizerDir = WriteTokenizer("tok", 1500, "<s>", "</s>");
        string dir = Make(Request("m") with { TokenizerDirectory = tokenizerDir });
        foreach (string name in new[] { "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json" })
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(tokenizerDir, name)), File.ReadAllBytes(Path.Combine(dir, name)));
        }
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!;
        Assert.Equal(1500, (int)config["bos_token_id"]!);
        Assert.Equal(1501, (int)config["eos_token_id"]!);
    }

    [Fact]
    public void A_tokenizer_without_bos_keeps_the_presets_id_only_if_the_tokenizer_has_it()
    {
        // tiny's preset bos is 2045: beyond this tokenizer's ids (0..1501), so no bos is written.
        string dir = Make(Request("m") with { TokenizerDirectory = WriteTokenizer("tok", 1500, null, "</s>") });
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!.AsObject();
        Assert.Null(config["bos_token_id"]);
        Assert.Equal(1501, (int)config["eos_token_id"]!);
    }

    [Fact]
    public void A_tokenizer_with_more_ids_than_the_vocabulary_is_refused_before_anything_is_written()
    {
        string tokenizerDir = WriteTokenizer("tok", 2047, "<s>", "</s>");
        var request = Request("m") with { TokenizerDirectory = tokenizerDir };
        var error = Assert.Throws<ModelMakingException>(() => Make(request));
        Assert.Contains("2048", error.Message);
        Assert.Contains("vocab_size", error.Message);
        Assert.False(Directory.Exists(request.OutDirectory));
    }

    [Fact]
    public void A_tokenizer_folder_without_tokenizer_json_is_refused()
    {
        string tokenizerDir = _temp.Sub("empty-tok");
        Directory.CreateDirectory(tokenizerDir);
        var error = Assert.Throws<ModelMakingException>(() => Make(Request("m") with { TokenizerDirectory = tokenizerDir }));
        Assert.Contains("tokenizer.json", error.Message);
    }
}
