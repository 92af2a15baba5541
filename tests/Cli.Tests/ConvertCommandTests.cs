using System.CommandLine;
using System.Text.Json.Nodes;
using OrleansLlm.Cli.Commands;
using OrleansLlm.Cli.ModelMaking;
using OrleansLlm.Gguf;
using OrleansLlm.Native;
using OrleansLlm.Tokenizers;
using OrleansLlm.Tokenizers.Gguf;

namespace OrleansLlm.Cli.Tests;

/// <summary>
/// `convert --to gguf` on models `make-model` writes, read back with GgufReader and checked against
/// the safetensors source (independent reader) and the preset's config values (docs/GGUF.md).
/// </summary>
public sealed class ConvertCommandTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private static (int ExitCode, string Output, string Error) Run(string command, params string[] args)
    {
        var root = new RootCommand { MakeModelCommand.Create(), ConvertCommand.Create() };
        var output = new StringWriter();
        var error = new StringWriter();
        int exitCode = root.Parse([command, .. args]).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (exitCode, output.ToString(), error.ToString());
    }

    private string MakeTiny(string arch = "llama", params string[] extra)
    {
        string dir = _temp.Sub("hf-" + arch + extra.Length);
        var (exitCode, _, error) = Run("make-model", ["--preset", "tiny", "--arch", arch, "--out", dir, .. extra]);
        Assert.True(exitCode == 0, error);
        return dir;
    }

    private GgufFile Convert(string dir)
    {
        string gguf = Path.Combine(_temp.Path, Path.GetFileName(dir) + ".gguf");
        var (exitCode, output, error) = Run("convert", "--to", "gguf", dir, gguf);
        Assert.True(exitCode == 0, error);
        Assert.Contains("wrote", output);
        return GgufReader.Read(gguf);
    }

    private static void EditConfig(string dir, Action<JsonObject> edit)
    {
        string path = Path.Combine(dir, "config.json");
        var config = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(config);
        File.WriteAllText(path, config.ToJsonString());
    }

    /// <summary>A tensor's bytes from the safetensors file make-model wrote.</summary>
    private static byte[] SourceBytes(string dir, string name)
    {
        string file = Path.Combine(dir, "model.safetensors");
        var safetensors = SafetensorsFile.Read(file);
        var entry = safetensors.Tensors.Single(t => t.Name == name);
        using var stream = File.OpenRead(file);
        stream.Position = safetensors.DataStart + entry.Begin;
        var bytes = new byte[entry.End - entry.Begin];
        stream.ReadExactly(bytes);
        return bytes;
    }

    /// <summary>16-bit values as float32 bytes, each widened on its own (an independent check of the converter's widening).</summary>
    private static byte[] Widen(byte[] halves, bool bf16)
    {
        var result = new byte[halves.Length * 2];
        for (int i = 0; i < halves.Length / 2; i++)
        {
            ushort bits = BitConverter.ToUInt16(halves, i * 2);
            float value = bf16 ? BitConverter.Int32BitsToSingle(bits << 16) : (float)BitConverter.UInt16BitsToHalf(bits);
            BitConverter.GetBytes(value).CopyTo(result, i * 4);
        }
        return result;
    }

    [Fact]
    public void Bf16_norms_are_written_as_f32_with_the_same_values()
    {
        string dir = MakeTiny();
        var file = Convert(dir);
        var norm = file.Tensor("blk.1.attn_norm.weight")!;
        Assert.Equal(GgufTensorType.F32, norm.Type);
        Assert.Equal(Widen(SourceBytes(dir, "model.layers.1.input_layernorm.weight"), bf16: true), file.ReadTensorBytes(norm));
        Assert.Equal(GgufTensorType.F32, file.Tensor("output_norm.weight")!.Type);
    }

    [Fact]
    public void Tiny_llama_converts_with_every_tensor_and_the_config_metadata()
    {
        var p = ModelPresets.Tiny;
        var file = Convert(MakeTiny());
        Assert.Equal(3u, file.Version);
        Assert.Equal(2 * 9 + 3, file.Tensors.Count);
        foreach (var tensor in file.Tensors)
        {
            // Vectors (norms) as F32: llama.cpp's quantizer refuses BF16 vectors.
            Assert.Equal(tensor.Dimensions.Count == 1 ? GgufTensorType.F32 : GgufTensorType.BF16, tensor.Type);
            Assert.Equal(0ul, tensor.Offset % 32);
        }
        Assert.Equal(new ulong[] { (ulong)p.HiddenSize, (ulong)p.VocabSize }, file.Tensor("token_embd.weight")!.Dimensions);
        Assert.Equal(new ulong[] { (ulong)p.HiddenSize, (ulong)p.VocabSize }, file.Tensor("output.weight")!.Dimensions);
        Assert.Equal(new ulong[] { (ulong)p.HiddenSize, (ulong)(p.KvHeadCount * p.HeadDim) }, file.Tensor("blk.1.attn_k.weight")!.Dimensions);
        Assert.Equal(new ulong[] { (ulong)p.IntermediateSize, (ulong)p.HiddenSize }, file.Tensor("blk.0.ffn_down.weight")!.Dimensions);
        Assert.Equal(new ulong[] { (ulong)p.HiddenSize }, file.Tensor("blk.0.ffn_norm.weight")!.Dimensions);
        Assert.Null(file.Tensor("rope_freqs.weight"));

        var m = file.Metadata;
        Assert.Equal("llama", m.GetString("general.architecture"));
        Assert.Equal(32L, m.GetInteger("general.file_type")); // mostly BF16
        Assert.Equal(32L, m.GetInteger("general.alignment"));
        Assert.Equal(p.MaxPositionEmbeddings, m.GetInteger("llama.context_length"));
        Assert.Equal(p.HiddenSize, m.GetInteger("llama.embedding_length"));
        Assert.Equal(p.LayerCount, m.GetInteger("llama.block_count"));
        Assert.Equal(p.IntermediateSize, m.GetInteger("llama.feed_forward_length"));
        Assert.Equal(p.HeadCount, m.GetInteger("llama.attention.head_count"));
        Assert.Equal(p.KvHeadCount, m.GetInteger("llama.attention.head_count_kv"));
        Assert.Equal(p.HeadDim, m.GetInteger("llama.attention.key_length"));
        Assert.Equal(p.HeadDim, m.GetInteger("llama.rope.dimension_count"));
        Assert.Equal((float)p.RmsNormEps, m.GetFloat32("llama.attention.layer_norm_rms_epsilon"));
        Assert.Equal((float)p.RopeTheta, m.GetFloat32("llama.rope.freq_base"));
        Assert.Equal(p.VocabSize, m.GetInteger("llama.vocab_size"));
        Assert.Equal(GgufValueType.UInt32, m["llama.context_length"].Type);

        // The synthetic tokenizer: byte-level BPE with the GPT-2 regex, which llama.cpp knows as "gpt-2".
        Assert.Equal("gpt2", m.GetString(GgufTokenizerKeys.Model));
        Assert.Equal("gpt-2", m.GetString(GgufTokenizerKeys.Pre));
        Assert.Equal(SyntheticTokenizer.ChatMlTemplate, m.GetString(GgufTokenizerKeys.ChatTemplate));
        Assert.Equal(p.EosTokenId, m.GetInteger(GgufTokenizerKeys.EosTokenId));
        Assert.Equal(p.VocabSize, m.GetArray<string>(GgufTokenizerKeys.Tokens)!.Length);
    }

    [Fact]
    public void Gguf_tokenizer_encodes_like_the_model_folder()
    {
        string dir = MakeTiny();
        var file = Convert(dir);
        var fromFolder = HfTokenizer.Load(dir);
        var fromGguf = HfTokenizer.Load(file.Path);
        foreach (string text in new[] { "Hello world", "The quick brown fox, 12345!\n\tTabs  and  spaces ", "<|im_start|>user\nhi<|im_end|>", "ünïcödé 😀" })
        {
            Assert.Equal(fromFolder.Encode(text), fromGguf.Encode(text));
        }
        Assert.Equal(fromFolder.EosTokenIds, fromGguf.EosTokenIds);
        var messages = new[] { new ChatMessage("user", "Hi") };
        Assert.Equal(fromFolder.ApplyChatTemplate(messages), fromGguf.ApplyChatTemplate(messages));
    }

    [Fact]
    public void Llama_q_and_k_rows_are_permuted_per_head_and_other_tensors_copied()
    {
        var p = ModelPresets.Tiny;
        string dir = MakeTiny();
        var file = Convert(dir);
        int rowBytes = p.HiddenSize * 2;
        foreach (var (gguf, hf, heads) in new[] { ("blk.1.attn_q.weight", "model.layers.1.self_attn.q_proj.weight", p.HeadCount),
                     ("blk.0.attn_k.weight", "model.layers.0.self_attn.k_proj.weight", p.KvHeadCount) })
        {
            byte[] source = SourceBytes(dir, hf);
            byte[] converted = file.ReadTensorBytes(file.Tensor(gguf)!);
            int d = p.HeadDim;
            for (int row = 0; row < heads * d; row++)
            {
                // GGUF row 2i + j of a head is HF row j·d/2 + i (docs/GGUF.md)
                int head = row / d, i = row % d / 2, j = row % 2;
                int sourceRow = head * d + j * (d / 2) + i;
                Assert.True(source.AsSpan(sourceRow * rowBytes, rowBytes).SequenceEqual(converted.AsSpan(row * rowBytes, rowBytes)),
                    $"{gguf} row {row} should be HF row {sourceRow}");
            }
            Assert.False(source.AsSpan().SequenceEqual(converted));
        }
        Assert.Equal(SourceBytes(dir, "model.layers.0.self_attn.v_proj.weight"), file.ReadTensorBytes(file.Tensor("blk.0.attn_v.weight")!));
        Assert.Equal(SourceBytes(dir, "model.embed_tokens.weight"), file.ReadTensorBytes(file.Tensor("token_embd.weight")!));
        Assert.Equal(SourceBytes(dir, "lm_head.weight"), file.ReadTensorBytes(file.Tensor("output.weight")!));
    }

    [Fact]
    public void Qwen2_keeps_q_k_rows_and_biases_and_f16()
    {
        string dir = MakeTiny("qwen2", "--dtype", "f16");
        var file = Convert(dir);
        Assert.Equal("qwen2", file.Metadata.GetString("general.architecture"));
        Assert.Equal(1L, file.Metadata.GetInteger("general.file_type"));
        Assert.Equal(GgufTensorType.F16, file.Tensor("blk.0.attn_q.weight")!.Type);
        Assert.Equal(SourceBytes(dir, "model.layers.0.self_attn.q_proj.weight"), file.ReadTensorBytes(file.Tensor("blk.0.attn_q.weight")!));
        var bias = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, Half>(SourceBytes(dir, "model.layers.1.self_attn.k_proj.bias"));
        Assert.Equal(GgufTensorType.F32, file.Tensor("blk.1.attn_k.bias")!.Type);
        Assert.Equal(bias.ToArray().Select(h => (float)h).ToArray(),
            System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(file.ReadTensorBytes(file.Tensor("blk.1.attn_k.bias")!)).ToArray());
        Assert.Equal(2 * 12 + 3, file.Tensors.Count);
    }

    [Theory]
    [InlineData("q8_0", GgufTensorType.Q8_0, 7L)]
    [InlineData("q4_0", GgufTensorType.Q4_0, 2L)]
    public void Type_quantizes_the_matrices_with_the_engines_quantizer(string type, GgufTensorType ggufType, long fileType)
    {
        string dir = MakeTiny();
        string gguf = Path.Combine(_temp.Path, type + ".gguf");
        var (exitCode, _, error) = Run("convert", "--to", "gguf", "--type", type, dir, gguf);
        Assert.True(exitCode == 0, error);
        var file = GgufReader.Read(gguf);
        Assert.Equal(fileType, file.Metadata.GetInteger("general.file_type"));
        foreach (var tensor in file.Tensors)
        {
            Assert.Equal(tensor.Dimensions.Count == 1 ? GgufTensorType.F32 : ggufType, tensor.Type);
        }
        // attn_v (not permuted): the BF16 source widened to float, quantized by the engine's quantizer.
        var p = ModelPresets.Tiny;
        var source = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ushort>(SourceBytes(dir, "model.layers.0.self_attn.v_proj.weight"));
        var values = source.ToArray().Select(b => BitConverter.Int32BitsToSingle(b << 16)).ToArray();
        var quantization = NativeQuantizer.Parse(type)!.Value;
        var weights = (QuantizedType)(int)quantization;
        long rows = p.KvHeadCount * p.HeadDim;
        var expected = new byte[NativeQuantizer.QuantizedBytes(weights, rows, p.HiddenSize)];
        NativeQuantizer.Quantize(weights, values, rows, p.HiddenSize, expected);
        Assert.Equal(expected, file.ReadTensorBytes(file.Tensor("blk.0.attn_v.weight")!));

        // The file loads as quantized and computes what quantizing the HF folder at load computes.
        int[] prompt = [5, 17, 300, 2000, 42];
        using var fromFile = NativeModel.Load(gguf, threadCount: 2);
        using var atLoad = NativeModel.Load(dir, threadCount: 2, weights: quantization);
        Assert.Equal(type, fromFile.Description.WeightDtype);
        Assert.Equal(type, atLoad.Description.WeightDtype);
        using var a = fromFile.CreateContext(64);
        using var b = atLoad.CreateContext(64);
        var la = a.EvalAll(prompt);
        var lb = b.EvalAll(prompt);
        Assert.Equal(la.Length, lb.Length);
        for (int i = 0; i < la.Length; i++)
        {
            Assert.True(Math.Abs(la[i] - lb[i]) <= 1e-4f, $"logit {i}: {la[i]} vs {lb[i]}");
        }
    }

    [Fact]
    public void Type_f32_widens_every_tensor_exactly()
    {
        string dir = MakeTiny();
        string gguf = Path.Combine(_temp.Path, "f32.gguf");
        var (exitCode, _, error) = Run("convert", "--to", "gguf", "--type", "f32", dir, gguf);
        Assert.True(exitCode == 0, error);
        var file = GgufReader.Read(gguf);
        Assert.Equal(0L, file.Metadata.GetInteger("general.file_type")); // all F32
        Assert.All(file.Tensors, tensor => Assert.Equal(GgufTensorType.F32, tensor.Type));
        // BF16 → F32 is exact: the values are the source's, bit for bit.
        Assert.Equal(Widen(SourceBytes(dir, "model.layers.0.self_attn.v_proj.weight"), bf16: true),
            file.ReadTensorBytes(file.Tensor("blk.0.attn_v.weight")!));
    }

    [Fact]
    public void Q4_K_M_follows_llama_cpps_mixture_and_loads_like_quantizing_at_load()
    {
        // Tiny: 2 layers, untied, rows of 128 (384 for ffn_down): no row is whole 256-blocks, so Q4_K
        // falls back to Q5_0 and Q6_K (the LM head; attn_v / ffn_down of layer 1 = 7·2/8) to Q8_0.
        string dir = MakeTiny();
        string gguf = Path.Combine(_temp.Path, "q4_k_m.gguf");
        var (exitCode, _, error) = Run("convert", "--to", "gguf", "--type", "q4_k_m", dir, gguf);
        Assert.True(exitCode == 0, error);
        var file = GgufReader.Read(gguf);
        Assert.Equal(15L, file.Metadata.GetInteger("general.file_type"));
        Assert.Equal(GgufTensorType.Q5_0, file.Tensor("token_embd.weight")!.Type);
        Assert.Equal(GgufTensorType.Q8_0, file.Tensor("output.weight")!.Type);
        foreach (string name in new[] { "attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down" })
        {
            Assert.Equal(GgufTensorType.Q5_0, file.Tensor($"blk.0.{name}.weight")!.Type);
            var layer1 = name is "attn_v" or "ffn_down" ? GgufTensorType.Q8_0 : GgufTensorType.Q5_0;
            Assert.Equal(layer1, file.Tensor($"blk.1.{name}.weight")!.Type);
        }

        int[] prompt = [5, 17, 300, 2000, 42];
        using var fromFile = NativeModel.Load(gguf, threadCount: 2);
        using var atLoad = NativeModel.Load(dir, threadCount: 2, weights: WeightQuantization.Q4_K_M);
        using var a = fromFile.CreateContext(64);
        using var b = atLoad.CreateContext(64);
        var la = a.EvalAll(prompt);
        var lb = b.EvalAll(prompt);
        for (int i = 0; i < la.Length; i++)
        {
            Assert.True(Math.Abs(la[i] - lb[i]) <= 1e-4f, $"logit {i}: {la[i]} vs {lb[i]}");
        }
    }

    [Fact]
    public void Unknown_type_is_refused()
    {
        var (exitCode, _, error) = Run("convert", "--to", "gguf", "--type", "q5_k", MakeTiny(), Path.Combine(_temp.Path, "x.gguf"));
        Assert.NotEqual(0, exitCode);
        Assert.Contains("q5_k", error);
    }

    [Fact]
    public void Qwen3_has_q_and_k_norms()
    {
        var file = Convert(MakeTiny("qwen3", "--dtype", "f32"));
        Assert.Equal(0L, file.Metadata.GetInteger("general.file_type"));
        Assert.Equal(new ulong[] { 32 }, file.Tensor("blk.1.attn_q_norm.weight")!.Dimensions);
        Assert.NotNull(file.Tensor("blk.1.attn_k_norm.weight"));
    }

    [Fact]
    public void Tied_embeddings_write_no_output_weight()
    {
        string dir = MakeTiny();
        EditConfig(dir, c => c["tie_word_embeddings"] = true);
        var file = Convert(dir);
        Assert.Null(file.Tensor("output.weight"));
        Assert.NotNull(file.Tensor("token_embd.weight"));
    }

    [Fact]
    public void Sharded_checkpoints_convert_like_single_files()
    {
        var single = Convert(MakeTiny());
        var sharded = Convert(MakeTiny("llama", "--max-shard-bytes", "300000"));
        Assert.True(Directory.GetFiles(_temp.Sub("hf-llama2"), "*.safetensors").Length > 1);
        Assert.Equal(single.Tensors.Select(t => (t.Name, t.Offset)), sharded.Tensors.Select(t => (t.Name, t.Offset)));
        foreach (var tensor in single.Tensors)
        {
            Assert.Equal(single.ReadTensorBytes(tensor), sharded.ReadTensorBytes(sharded.Tensor(tensor.Name)!));
        }
    }

    /// <summary>Llama 3.1's rope_scaling (factor 8, low 1, high 4, original 8192): frequencies with a wavelength under
    /// 8192/4 keep factor 1, those over 8192/1 get factor 8 (docs/GGUF.md); with theta 500000 and head_dim 32 the first
    /// frequency (wavelength 2π) is the former and the last (wavelength 2π·500000^(30/32) ≈ 1.4e6) the latter.</summary>
    [Fact]
    public void Llama3_rope_scaling_writes_rope_freqs()
    {
        string dir = MakeTiny();
        EditConfig(dir, c =>
        {
            c["rope_theta"] = 500000.0;
            c["rope_scaling"] = new JsonObject
            {
                ["factor"] = 8.0, ["low_freq_factor"] = 1.0, ["high_freq_factor"] = 4.0,
                ["original_max_position_embeddings"] = 8192, ["rope_type"] = "llama3",
            };
        });
        var file = Convert(dir);
        var tensor = file.Tensor("rope_freqs.weight")!;
        Assert.Equal(GgufTensorType.F32, tensor.Type);
        Assert.Equal(new ulong[] { 16 }, tensor.Dimensions);
        float[] factors = new float[16];
        Buffer.BlockCopy(file.ReadTensorBytes(tensor), 0, factors, 0, 64);
        Assert.Equal(1f, factors[0]);
        Assert.Equal(8f, factors[15]);
        Assert.All(factors, f => Assert.InRange(f, 1f, 8f));
        Assert.True(factors.Zip(factors.Skip(1)).All(pair => pair.First <= pair.Second));
    }

    [Fact]
    public void Refuses_to_overwrite_without_force()
    {
        string dir = MakeTiny();
        string gguf = _temp.Sub("out.gguf");
        File.WriteAllText(gguf, "keep me");
        var (exitCode, _, error) = Run("convert", "--to", "gguf", dir, gguf);
        Assert.Equal(1, exitCode);
        Assert.Contains("--force", error);
        Assert.Equal("keep me", File.ReadAllText(gguf));
        Assert.Equal(0, Run("convert", "--to", "gguf", dir, gguf, "--force").ExitCode);
        Assert.True(GgufReader.HasMagic(gguf));
    }

    [Fact]
    public void Bad_arguments_and_inputs_fail_with_a_message()
    {
        string missing = _temp.Sub("missing");
        var (exitCode, _, error) = Run("convert", "--to", "gguf", missing, _temp.Sub("a.gguf"));
        Assert.Equal(1, exitCode);
        Assert.Contains("does not exist", error);

        Assert.NotEqual(0, Run("convert", "--to", "onnx", missing, _temp.Sub("a.gguf")).ExitCode);
        Assert.NotEqual(0, Run("convert", missing, _temp.Sub("a.gguf")).ExitCode);

        string dir = MakeTiny();
        EditConfig(dir, c => c["model_type"] = "gemma");
        (exitCode, _, error) = Run("convert", "--to", "gguf", dir, _temp.Sub("b.gguf"));
        Assert.Equal(1, exitCode);
        Assert.Contains("model_type \"gemma\" is not supported", error);
        Assert.False(File.Exists(_temp.Sub("b.gguf")));

        EditConfig(dir, c => c["model_type"] = "llama");
        File.Delete(Path.Combine(dir, "model.safetensors"));
        (exitCode, _, error) = Run("convert", "--to", "gguf", dir, _temp.Sub("c.gguf"));
        Assert.Equal(1, exitCode);
        Assert.Contains("no safetensors", error);
    }

    // The C# converter and the native GGUF loader are independent readings of docs/GGUF.md: the
    // engine on the .gguf must compute exactly what it computes on the Hugging Face folder (same
    // stored values, the Q/K permutation undone) — bit for bit, in every dtype and architecture.
    [Theory]
    [InlineData("llama", "f32")]
    [InlineData("llama", "bf16")]
    [InlineData("qwen2", "f16")]
    [InlineData("qwen3", "bf16")]
    public void The_engine_computes_the_same_logits_from_the_gguf_as_from_the_folder(string arch, string dtype)
    {
        string dir = MakeTiny(arch, "--dtype", dtype);
        string gguf = Path.Combine(_temp.Path, $"{arch}-{dtype}.gguf");
        Assert.Equal(0, Run("convert", "--to", "gguf", dir, gguf).ExitCode);
        int[] tokens = [5, 17, 300, 1999, 42, 7, 1024, 3];

        using var fromFolder = NativeModel.Load(dir, threadCount: 1);
        using var fromGguf = NativeModel.Load(gguf, threadCount: 1);
        using var folderContext = fromFolder.CreateContext(tokens.Length);
        using var ggufContext = fromGguf.CreateContext(tokens.Length);
        float[] expected = folderContext.EvalAll(tokens);
        float[] actual = ggufContext.EvalAll(tokens);

        Assert.Equal(expected.Length, actual.Length);
        Assert.Equal(expected, actual);  // exact: the same weights, the same kernels
        Assert.Contains(expected, v => v != 0f);
    }
}
