using System.Text;
using OrleansLlm.Tokenizers;

namespace OrleansLlm.Cli.ModelMaking;

/// <summary>What to make and where.</summary>
internal sealed record ModelMakeRequest(ModelSpec Spec, ulong Seed, string OutDirectory, string? TokenizerDirectory, bool Force)
{
    /// <summary>Tensor bytes above which the weights are split into several files (tests lower it).</summary>
    public long MaxShardBytes { get; init; } = SafetensorsLayout.DefaultMaxShardBytes;

    public int ThreadCount { get; init; } = Environment.ProcessorCount;
}

/// <summary>
/// Writes a random-weight model folder in Hugging Face layout: config.json,
/// generation_config.json, tokenizer files, and the weights as one or several safetensors files.
/// Everything that can be refused (arguments, tokenizer, output folder) is checked before the first
/// weight byte is written.
/// </summary>
internal sealed class ModelMaker
{
    public const string ConfigJson = "config.json";
    public const string GenerationConfigJson = "generation_config.json";

    private readonly ModelMakeRequest _request;

    public ModelMaker(ModelMakeRequest request)
    {
        _request = request;
        Shards = SafetensorsLayout.Plan(request.Spec.Tensors(), request.Spec.DType, request.MaxShardBytes);
    }

    public IReadOnlyList<SafetensorsShard> Shards { get; }

    /// <summary>Bytes of all safetensors files, headers included: the total the progress counts to.</summary>
    public long WeightFileBytes => Shards.Sum(s => s.FileBytes);

    public void Run(Action<long>? onBytesWritten, CancellationToken cancellationToken)
    {
        Prepare();
        WriteWeights(onBytesWritten, cancellationToken);
    }

    /// <summary>Checks the tokenizer, prepares the folder and writes the small files (tokenizer, configs).</summary>
    public void Prepare()
    {
        var spec = _request.Spec;
        TokenizerSummary? realTokenizer = null;
        SyntheticTokenizer? syntheticTokenizer = null;
        if (_request.TokenizerDirectory is { } tokenizerDirectory)
        {
            realTokenizer = TokenizerCopy.Inspect(tokenizerDirectory);
            TokenizerCopy.CheckFits(realTokenizer, spec.Preset);
        }
        else
        {
            syntheticTokenizer = SyntheticTokenizer.Create(spec.Preset.VocabSize);
        }
        var tokenIds = realTokenizer is not null
            ? TokenizerCopy.TokenIds(realTokenizer, spec.Preset)
            : syntheticTokenizer!.TokenIds;

        string outDirectory = _request.OutDirectory;
        PrepareOutDirectory(outDirectory, _request.Force);
        try
        {
            if (realTokenizer is not null)
            {
                TokenizerCopy.Copy(realTokenizer, outDirectory);
            }
            else
            {
                using (var stream = File.Create(Path.Combine(outDirectory, TokenizerFiles.TokenizerFileName)))
                {
                    syntheticTokenizer!.WriteTokenizerJson(stream);
                }
                WriteText(TokenizerFiles.ConfigFileName, syntheticTokenizer.TokenizerConfigJson(spec.Preset.MaxPositionEmbeddings));
            }
            WriteText(ConfigJson, HfConfigFiles.ConfigJson(spec, tokenIds));
            WriteText(GenerationConfigJson, HfConfigFiles.GenerationConfigJson(tokenIds));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelMakingException($"cannot write the model to '{outDirectory}': {e.Message}", e);
        }
    }

    /// <summary>Writes the safetensors files (and the index when sharded) after <see cref="Prepare"/>.</summary>
    /// <param name="onBytesWritten">called, possibly from several threads at once, with the bytes just written</param>
    public void WriteWeights(Action<long>? onBytesWritten, CancellationToken cancellationToken)
    {
        var spec = _request.Spec;
        string outDirectory = _request.OutDirectory;
        try
        {
            foreach (var shard in Shards)
            {
                cancellationToken.ThrowIfCancellationRequested();
                SafetensorsFileWriter.Write(Path.Combine(outDirectory, shard.FileName), shard, _request.Seed, spec.DType,
                    _request.ThreadCount, onBytesWritten, cancellationToken);
            }
            if (Shards.Count > 1)
            {
                WriteText(SafetensorsLayout.IndexFileName, SafetensorsLayout.IndexJson(Shards));
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelMakingException($"cannot write the model to '{outDirectory}': {e.Message}", e);
        }
    }

    private void WriteText(string fileName, string text) =>
        File.WriteAllText(Path.Combine(_request.OutDirectory, fileName), text, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));

    /// <summary>Creates the folder, or empties it of earlier model files when forced, so no stale
    /// shard of a different layout is left beside the new ones.</summary>
    private static void PrepareOutDirectory(string directory, bool force)
    {
        try
        {
            if (File.Exists(directory))
            {
                throw new ModelMakingException($"--out '{directory}' is a file, not a folder");
            }
            if (Directory.Exists(directory) && Directory.EnumerateFileSystemEntries(directory).Any())
            {
                if (!force)
                {
                    throw new ModelMakingException($"output folder '{directory}' is not empty; pass --force to overwrite the model in it");
                }
                foreach (string file in Directory.EnumerateFiles(directory))
                {
                    if (IsModelFile(Path.GetFileName(file)))
                    {
                        File.Delete(file);
                    }
                }
            }
            Directory.CreateDirectory(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelMakingException($"cannot create output folder '{directory}': {e.Message}", e);
        }
    }

    private static bool IsModelFile(string name) =>
        name is ConfigJson or GenerationConfigJson or SafetensorsLayout.IndexFileName
            or TokenizerFiles.TokenizerFileName or TokenizerFiles.ConfigFileName or TokenizerFiles.SpecialTokensMapFileName
        || name.EndsWith(".safetensors", StringComparison.Ordinal);
}
