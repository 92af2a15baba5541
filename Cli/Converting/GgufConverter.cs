using System.Runtime.InteropServices;
using OrleansLlm.Gguf;
using OrleansLlm.Native;
using OrleansLlm.Tokenizers;
using OrleansLlm.Tokenizers.Gguf;

namespace OrleansLlm.Cli.Converting;

/// <summary>What to convert and where.</summary>
/// <param name="Weights">Quantize the matrices (Q8_0, Q4_0 or the Q4_K_M mixture, with the engine's quantizer) or keep them as stored.</param>
/// <param name="WidenToF32">Write every tensor as F32 (exact from F16/BF16): a file llama.cpp
/// computes in F32 throughout, the reference of `bench peer --reference`.</param>
internal sealed record ConvertRequest(string ModelDirectory, string OutPath, bool Force,
    WeightQuantization Weights = WeightQuantization.AsStored, bool WidenToF32 = false);

/// <summary>
/// Converts a Hugging Face model folder (config.json, safetensors, tokenizer files) to one GGUF file
/// as docs/GGUF.md lays it out: tensors renamed and kept in their stored type (F32, F16, BF16) or
/// quantized to Q8_0 / Q4_0 (docs/QUANTIZATION.md: matrices whose rows are whole 32-blocks), vectors
/// (norms, biases) always F32 (llama.cpp's quantizer refuses BF16 vectors),
/// Q/K rows permuted for `llama`, `rope_freqs.weight` for llama3 rope scaling, no `output.weight`
/// when the embeddings are tied, model and tokenizer metadata. <see cref="Prepare"/> checks
/// everything that can be refused before <see cref="Write"/> writes a byte; the file is written
/// beside the target and renamed into place, so a failed run leaves no partial .gguf.
/// </summary>
internal sealed class GgufConverter
{
    private const int CopyChunkBytes = 4 << 20;

    /// <summary>A GGUF tensor: where its bytes come from, how they are reordered, and the type they
    /// are written in (<see cref="SourceType"/> unless converted).</summary>
    private sealed record PlannedTensor(string Name, ulong[] Dimensions, GgufTensorType Type, SafetensorsTensor? Source,
        int PermuteHeads, byte[]? Data, GgufTensorType SourceType);

    private readonly ConvertRequest _request;
    private readonly List<PlannedTensor> _tensors = [];
    private readonly GgufMetadata _metadata = new();

    public GgufConverter(ConvertRequest request) => _request = request;

    public string Architecture { get; private set; } = "";

    public int TensorCount => _tensors.Count;

    /// <summary>Bytes of tensor data the progress counts to.</summary>
    public long TensorBytes => _tensors.Sum(t => t.Source?.ByteSize ?? t.Data!.Length);

    public void Prepare()
    {
        string directory = _request.ModelDirectory;
        if (!Directory.Exists(directory))
        {
            throw new ConversionException($"model folder {directory} does not exist");
        }
        if (Directory.Exists(_request.OutPath))
        {
            throw new ConversionException($"output {_request.OutPath} is a folder; give a file path");
        }
        if (File.Exists(_request.OutPath) && !_request.Force)
        {
            throw new ConversionException($"{_request.OutPath} exists; pass --force to overwrite it");
        }
        var config = HfModelConfig.Read(directory);
        var checkpoint = SafetensorsCheckpoint.Open(directory);
        Architecture = HfModelConfig.GgufArchitecture(config.ModelType)!;
        PlanTensors(config, checkpoint);
        AddModelMetadata(config, Path.GetFileName(Path.TrimEndingDirectorySeparator(directory)));
        try
        {
            int embeddingRows = (int)_tensors[0].Dimensions[1];
            GgufTokenizerMetadata.Add(_metadata, directory, Math.Max(config.VocabSize, embeddingRows));
        }
        catch (TokenizerException e)
        {
            throw new ConversionException($"tokenizer: {e.Message}", e);
        }
    }

    /// <param name="onBytesWritten">called with each chunk's byte count</param>
    public void Write(Action<long>? onBytesWritten, CancellationToken cancellationToken)
    {
        string partial = _request.OutPath + ".partial";
        try
        {
            using (var stream = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            {
                var writer = new GgufWriter(stream);
                foreach (string key in _metadata.Keys)
                {
                    writer.Metadata.Set(key, _metadata[key]);
                }
                foreach (var tensor in _tensors)
                {
                    writer.AddTensor(tensor.Name, tensor.Dimensions, tensor.Type);
                }
                writer.WriteHeader();
                var buffer = new byte[CopyChunkBytes];
                foreach (var tensor in _tensors)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    WriteTensor(writer, tensor, buffer, onBytesWritten, cancellationToken);
                }
                writer.Finish();
            }
            File.Move(partial, _request.OutPath, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(partial);
            throw new ConversionException($"cannot write {_request.OutPath}: {e.Message}", e);
        }
        catch
        {
            TryDelete(partial);
            throw;
        }
    }

    private void WriteTensor(GgufWriter writer, PlannedTensor tensor, byte[] buffer, Action<long>? onBytesWritten,
        CancellationToken cancellationToken)
    {
        if (tensor.Data is not null)
        {
            writer.WriteTensorData(tensor.Data);
            onBytesWritten?.Invoke(tensor.Data.Length);
            return;
        }
        var source = tensor.Source!;
        using var file = new FileStream(source.FilePath, FileMode.Open, FileAccess.Read, FileShare.Read, 1);
        file.Position = source.DataBegin;
        if (tensor.Type != tensor.SourceType)
        {
            WriteConverted(writer, tensor, file, onBytesWritten, cancellationToken);
            return;
        }
        if (tensor.PermuteHeads > 0)
        {
            var bytes = new byte[source.ByteSize];
            file.ReadExactly(bytes);
            long rows = source.Shape[0];
            int rowBytes = (int)(source.ByteSize / rows);
            writer.WriteTensorData(QkRowPermutation.Apply(bytes, tensor.PermuteHeads, (int)(rows / tensor.PermuteHeads), rowBytes));
            onBytesWritten?.Invoke(bytes.Length);
            return;
        }
        for (long left = source.ByteSize; left > 0;)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int take = (int)Math.Min(buffer.Length, left);
            file.ReadExactly(buffer, 0, take);
            writer.WriteTensorData(buffer.AsSpan(0, take));
            onBytesWritten?.Invoke(take);
            left -= take;
        }
    }

    /// <summary>Writes <paramref name="tensor"/> converted from its stored type: rows read in chunks (all
    /// at once when its rows are permuted), widened to float, then quantized or written as F32.</summary>
    private static void WriteConverted(GgufWriter writer, PlannedTensor tensor, FileStream file, Action<long>? onBytesWritten,
        CancellationToken cancellationToken)
    {
        var source = tensor.Source!;
        long rows = source.Shape.Length == 1 ? 1 : source.Shape[0];
        long columns = source.Shape[^1];
        int elementBytes = tensor.SourceType == GgufTensorType.F32 ? 4 : 2;
        long rowBytes = columns * elementBytes;
        int chunkRows = (int)Math.Max(1, Math.Min(rows, CopyChunkBytes / rowBytes));
        Stream input = file;
        if (tensor.PermuteHeads > 0)
        {
            var all = new byte[source.ByteSize];
            file.ReadExactly(all);
            input = new MemoryStream(QkRowPermutation.Apply(all, tensor.PermuteHeads, (int)(rows / tensor.PermuteHeads), (int)rowBytes));
        }
        var bytes = new byte[chunkRows * rowBytes];
        var values = new float[chunkRows * columns];
        QuantizedType? weights = tensor.Type switch
        {
            GgufTensorType.Q8_0 => QuantizedType.Q8_0,
            GgufTensorType.Q4_0 => QuantizedType.Q4_0,
            GgufTensorType.Q5_0 => QuantizedType.Q5_0,
            GgufTensorType.Q4_K => QuantizedType.Q4_K,
            GgufTensorType.Q6_K => QuantizedType.Q6_K,
            _ => null,
        };
        var output = weights is not { } w ? new byte[values.Length * 4]
            : new byte[NativeQuantizer.QuantizedBytes(w, chunkRows, columns)];
        for (long row = 0; row < rows; row += chunkRows)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int n = (int)Math.Min(chunkRows, rows - row);
            int count = (int)(n * columns);
            input.ReadExactly(bytes, 0, (int)(n * rowBytes));
            ToFloat(tensor.SourceType, bytes.AsSpan(0, (int)(n * rowBytes)), values.AsSpan(0, count));
            if (weights is not { } quantized)
            {
                MemoryMarshal.AsBytes(values.AsSpan(0, count)).CopyTo(output);
                writer.WriteTensorData(output.AsSpan(0, count * 4));
            }
            else
            {
                int outBytes = (int)NativeQuantizer.QuantizedBytes(quantized, n, columns);
                NativeQuantizer.Quantize(quantized, values.AsSpan(0, count), n, columns, output.AsSpan(0, outBytes));
                writer.WriteTensorData(output.AsSpan(0, outBytes));
            }
            onBytesWritten?.Invoke(n * rowBytes);
        }
    }

    private static void ToFloat(GgufTensorType type, ReadOnlySpan<byte> bytes, Span<float> values)
    {
        switch (type)
        {
            case GgufTensorType.F32:
                MemoryMarshal.Cast<byte, float>(bytes).CopyTo(values);
                break;
            case GgufTensorType.F16:
                var halves = MemoryMarshal.Cast<byte, Half>(bytes);
                for (int i = 0; i < values.Length; i++)
                {
                    values[i] = (float)halves[i];
                }
                break;
            default:
                var bf16 = MemoryMarshal.Cast<byte, ushort>(bytes);
                for (int i = 0; i < values.Length; i++)
                {
                    values[i] = BitConverter.Int32BitsToSingle(bf16[i] << 16);
                }
                break;
        }
    }

    private void PlanTensors(HfModelConfig config, SafetensorsCheckpoint checkpoint)
    {
        bool permute = Architecture == "llama";
        var used = new HashSet<string>(StringComparer.Ordinal);
        void Add(string ggufName, string hfName, bool required, int permuteHeads = 0)
        {
            var source = checkpoint.Find(hfName);
            if (source is null)
            {
                if (required)
                {
                    throw new ConversionException($"{_request.ModelDirectory} has no tensor {hfName}");
                }
                return;
            }
            used.Add(hfName);
            var type = source.DType switch
            {
                "F32" => GgufTensorType.F32,
                "F16" => GgufTensorType.F16,
                "BF16" => GgufTensorType.BF16,
                _ => throw new ConversionException(
                    $"tensor {hfName} has dtype {source.DType}; only F32, F16 and BF16 are converted"),
            };
            long expectedBytes = source.Shape.Aggregate(1L, (p, d) => p * d) * (type == GgufTensorType.F32 ? 4 : 2);
            if (source.Shape.Length is 0 or > GgufReader.MaxDimensions || expectedBytes != source.ByteSize)
            {
                throw new ConversionException(
                    $"tensor {hfName} has shape [{string.Join(", ", source.Shape)}] that does not match its {source.ByteSize} bytes of {source.DType}");
            }
            if (permuteHeads > 0 && source.Shape[0] != (long)permuteHeads * config.HeadDim)
            {
                throw new ConversionException(
                    $"tensor {hfName} has {source.Shape[0]} rows, not {permuteHeads} heads × head_dim {config.HeadDim}");
            }
            var dimensions = source.Shape.Reverse().Select(d => (ulong)d).ToArray();
            var written = type;
            if (source.Shape.Length == 1 || _request.WidenToF32)
            {
                written = GgufTensorType.F32;
            }
            else if (NativeQuantizer.TypeOf(_request.Weights, ggufName, source.Shape[^1], config.LayerCount, config.TieWordEmbeddings)
                     is { } quantized)
            {
                written = GgufTypeOf(quantized);
            }
            _tensors.Add(new PlannedTensor(ggufName, dimensions, written, source, permuteHeads, null, type));
        }

        Add("token_embd.weight", "model.embed_tokens.weight", required: true);
        if (config.RopeScaling is { } scaling)
        {
            float[] factors = RopeFrequencyFactors.Llama3(config.HeadDim, config.RopeTheta, scaling);
            var data = new byte[factors.Length * 4];
            Buffer.BlockCopy(factors, 0, data, 0, data.Length);
            _tensors.Add(new PlannedTensor("rope_freqs.weight", [(ulong)factors.Length], GgufTensorType.F32, null, 0, data,
                GgufTensorType.F32));
        }
        for (int layer = 0; layer < config.LayerCount; layer++)
        {
            string hf = $"model.layers.{layer}.";
            string gguf = $"blk.{layer}.";
            Add(gguf + "attn_norm.weight", hf + "input_layernorm.weight", required: true);
            foreach (string kind in new[] { "weight", "bias" })
            {
                bool required = kind == "weight";
                Add(gguf + "attn_q." + kind, hf + "self_attn.q_proj." + kind, required, permute ? config.HeadCount : 0);
                Add(gguf + "attn_k." + kind, hf + "self_attn.k_proj." + kind, required, permute ? config.KvHeadCount : 0);
                Add(gguf + "attn_v." + kind, hf + "self_attn.v_proj." + kind, required);
                Add(gguf + "attn_output." + kind, hf + "self_attn.o_proj." + kind, required);
            }
            Add(gguf + "attn_q_norm.weight", hf + "self_attn.q_norm.weight", required: config.ModelType == "qwen3");
            Add(gguf + "attn_k_norm.weight", hf + "self_attn.k_norm.weight", required: config.ModelType == "qwen3");
            Add(gguf + "ffn_norm.weight", hf + "post_attention_layernorm.weight", required: true);
            Add(gguf + "ffn_gate.weight", hf + "mlp.gate_proj.weight", required: true);
            Add(gguf + "ffn_up.weight", hf + "mlp.up_proj.weight", required: true);
            Add(gguf + "ffn_down.weight", hf + "mlp.down_proj.weight", required: true);
        }
        Add("output_norm.weight", "model.norm.weight", required: true);
        if (config.TieWordEmbeddings)
        {
            used.Add("lm_head.weight"); // tied: the loader reuses token_embd
        }
        else
        {
            Add("output.weight", "lm_head.weight", required: true);
        }

        var unknown = checkpoint.Tensors.Select(t => t.Name)
            .Where(name => !used.Contains(name) && !name.EndsWith("rotary_emb.inv_freq", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).ToList();
        if (unknown.Count > 0)
        {
            throw new ConversionException(
                $"{unknown.Count} tensor(s) of the checkpoint have no GGUF name for {config.ModelType}: {string.Join(", ", unknown.Take(5))}");
        }
    }

    private void AddModelMetadata(HfModelConfig config, string name)
    {
        string a = Architecture;
        _metadata.Set(GgufFile.ArchitectureKey, GgufValue.Of(a));
        _metadata.Set("general.name", GgufValue.Of(name));
        _metadata.Set("general.file_type", GgufValue.Of(FileType()));
        _metadata.Set(GgufFile.AlignmentKey, GgufValue.Of((uint)GgufFile.DefaultAlignment));
        _metadata.Set($"{a}.context_length", GgufValue.Of((uint)config.MaxPositionEmbeddings));
        _metadata.Set($"{a}.embedding_length", GgufValue.Of((uint)config.HiddenSize));
        _metadata.Set($"{a}.block_count", GgufValue.Of((uint)config.LayerCount));
        _metadata.Set($"{a}.feed_forward_length", GgufValue.Of((uint)config.IntermediateSize));
        _metadata.Set($"{a}.attention.head_count", GgufValue.Of((uint)config.HeadCount));
        _metadata.Set($"{a}.attention.head_count_kv", GgufValue.Of((uint)config.KvHeadCount));
        _metadata.Set($"{a}.attention.key_length", GgufValue.Of((uint)config.HeadDim));
        _metadata.Set($"{a}.attention.value_length", GgufValue.Of((uint)config.HeadDim));
        _metadata.Set($"{a}.rope.dimension_count", GgufValue.Of((uint)config.HeadDim));
        _metadata.Set($"{a}.attention.layer_norm_rms_epsilon", GgufValue.Of((float)config.RmsNormEps));
        _metadata.Set($"{a}.rope.freq_base", GgufValue.Of((float)config.RopeTheta));
        _metadata.Set($"{a}.vocab_size", GgufValue.Of((uint)config.VocabSize));
    }

    /// <summary>The GGUF tensor type (ggml_type) of a quantized type.</summary>
    private static GgufTensorType GgufTypeOf(QuantizedType type) => type switch
    {
        QuantizedType.Q8_0 => GgufTensorType.Q8_0,
        QuantizedType.Q4_0 => GgufTensorType.Q4_0,
        QuantizedType.Q5_0 => GgufTensorType.Q5_0,
        QuantizedType.Q4_K => GgufTensorType.Q4_K,
        QuantizedType.Q6_K => GgufTensorType.Q6_K,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    /// <summary>llama_ftype: 15 for a Q4_K_M conversion, else from the type most matrices have: 0 all F32, 1 mostly F16,
    /// 2 mostly Q4_0, 7 mostly Q8_0, 32 mostly BF16.</summary>
    private uint FileType()
    {
        if (_request.Weights == WeightQuantization.Q4_K_M)
        {
            return 15;
        }
        var type = _tensors.Where(t => t.Dimensions.Length == 2).GroupBy(t => t.Type)
            .OrderByDescending(g => g.Count()).Select(g => g.Key).FirstOrDefault();
        return type switch
        {
            GgufTensorType.F16 => 1,
            GgufTensorType.Q4_0 => 2,
            GgufTensorType.Q8_0 => 7,
            GgufTensorType.BF16 => 32,
            _ => 0,
        };
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // the original error is the one to report
        }
    }
}
