using System.CommandLine;
using System.Diagnostics;
using OrleansLlm.Cli.ModelMaking;

namespace OrleansLlm.Cli.Commands;

/// <summary>`orleansllm make-model`: writes a random-weight model folder in Hugging Face format.</summary>
internal static class MakeModelCommand
{
    public static Command Create()
    {
        var arch = new Option<string?>("--arch")
        {
            Description = "Architecture family whose features apply to the preset's shapes (default: the preset's own)",
        };
        arch.AcceptOnlyFromAmong([.. ModelArchitectures.Names]);
        var preset = new Option<string>("--preset")
        {
            Description = "Shapes of a real model (tiny: a few MB, for tests)",
            Required = true,
        };
        preset.AcceptOnlyFromAmong([.. ModelPresets.Names]);
        var dtype = new Option<string>("--dtype")
        {
            Description = "Element type of the weights",
            DefaultValueFactory = _ => "bf16",
        };
        dtype.AcceptOnlyFromAmong([.. TensorDTypes.Names]);
        var seed = new Option<ulong>("--seed")
        {
            Description = "Seed of the weights; the same seed gives the same bytes on any machine",
            DefaultValueFactory = _ => 0,
        };
        var outDirectory = new Option<string>("--out")
        {
            Description = "Folder to write the model into (created; must be empty unless --force)",
            Required = true,
        };
        var tokenizer = new Option<string?>("--tokenizer")
        {
            Description = "Folder with a real tokenizer.json and tokenizer_config.json to copy (default: a synthetic byte-level BPE tokenizer)",
        };
        var force = new Option<bool>("--force")
        {
            Description = "Overwrite the model files in a non-empty --out folder",
        };
        // Hidden: lets tests of sharded loading make a small sharded model.
        var maxShardBytes = new Option<long>("--max-shard-bytes")
        {
            Description = "Tensor bytes per safetensors file before the weights are sharded",
            DefaultValueFactory = _ => SafetensorsLayout.DefaultMaxShardBytes,
            Hidden = true,
        };
        maxShardBytes.Validators.Add(result =>
        {
            long value = result.GetValueOrDefault<long>();
            if (value <= 0)
            {
                result.AddError($"--max-shard-bytes must be positive, not {value}");
            }
        });

        foreach (Option folder in new Option[] { outDirectory, tokenizer })
        {
            folder.Validators.Add(result =>
            {
                if (string.IsNullOrWhiteSpace(result.GetValueOrDefault<string?>()))
                {
                    result.AddError($"{folder.Name} needs a folder path, not an empty string");
                }
            });
        }

        var command = new Command("make-model", "Write a random-weight model (config.json, safetensors, tokenizer) in Hugging Face format")
        {
            arch, preset, dtype, seed, outDirectory, tokenizer, force, maxShardBytes,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            ModelPresets.TryGet(parseResult.GetRequiredValue(preset), out var modelPreset);
            var architecture = modelPreset.NaturalArchitecture;
            if (parseResult.GetValue(arch) is { } archName)
            {
                ModelArchitectures.TryParse(archName, out architecture);
            }
            TensorDTypes.TryParse(parseResult.GetRequiredValue(dtype), out var tensorDType);
            var request = new ModelMakeRequest(
                new ModelSpec(modelPreset, architecture, tensorDType),
                parseResult.GetValue(seed),
                Path.GetFullPath(parseResult.GetRequiredValue(outDirectory)),
                parseResult.GetValue(tokenizer) is { } t ? Path.GetFullPath(t) : null,
                parseResult.GetValue(force))
            {
                MaxShardBytes = parseResult.GetValue(maxShardBytes),
            };
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            bool interactive = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
            return await RunAsync(request, output, error, interactive, cancellationToken);
        });
        return command;
    }

    internal static async Task<int> RunAsync(ModelMakeRequest request, TextWriter output, TextWriter error, bool interactive,
        CancellationToken cancellationToken)
    {
        var spec = request.Spec;
        var stopwatch = Stopwatch.StartNew();
        try
        {
            var maker = new ModelMaker(request);
            maker.Prepare();
            long written = 0;
            var work = Task.Run(() => maker.WriteWeights(bytes => Interlocked.Add(ref written, bytes), cancellationToken),
                cancellationToken);
            string label = $"{spec.Preset.Name} {spec.Architecture.CliName()} {spec.DType.CliName()}";
            await WriteProgress.ShowAsync(work, "make-model", label, maker.WeightFileBytes, () => Interlocked.Read(ref written),
                error, interactive);
            await work;
            output.WriteLine(
                $"wrote {request.OutDirectory}: {spec.Preset.Name} as {spec.Architecture.HfClassName()}, {spec.DType.CliName()}, " +
                $"{spec.Tensors().Count} tensors in {maker.Shards.Count} file(s), {maker.WeightFileBytes:N0} bytes, " +
                $"seed {request.Seed}, {stopwatch.Elapsed.TotalSeconds:F1} s");
            return 0;
        }
        catch (ModelMakingException e)
        {
            error.WriteLine($"make-model: {e.Message}");
            return 1;
        }
        catch (OperationCanceledException)
        {
            error.WriteLine($"make-model: cancelled; {request.OutDirectory} holds an incomplete model");
            return 130;
        }
    }
}
