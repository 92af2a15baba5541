using System.CommandLine;
using System.Diagnostics;
using OrleansLlm.Cli.Converting;
using OrleansLlm.Native;

namespace OrleansLlm.Cli.Commands;

/// <summary>`orleansllm convert --to gguf HF_DIR OUT.gguf`: a Hugging Face model folder as one GGUF file.</summary>
internal static class ConvertCommand
{
    public static Command Create()
    {
        var to = new Option<string>("--to")
        {
            Description = "Target format",
            Required = true,
        };
        to.AcceptOnlyFromAmong("gguf");
        var source = new Argument<string>("HF_DIR") { Description = "Hugging Face model folder: config.json, safetensors, tokenizer files" };
        var target = new Argument<string>("OUT") { Description = "The .gguf file to write" };
        var force = new Option<bool>("--force") { Description = "Overwrite OUT if it exists" };
        var type = new Option<string?>("--type")
        {
            Description = "Quantize the matrices (q8_0, q4_0, q4_k_m) or widen every tensor to f32 (a reference for bench peer --reference); default: keep the stored F32/F16/BF16",
        };
        type.AcceptOnlyFromAmong([.. NativeQuantizer.Names, "f32"]);
        foreach (Argument path in new Argument[] { source, target })
        {
            path.Validators.Add(result =>
            {
                if (string.IsNullOrWhiteSpace(result.GetValueOrDefault<string>()))
                {
                    result.AddError($"{path.Name} needs a path, not an empty string");
                }
            });
        }

        var command = new Command("convert", "Convert a Hugging Face model folder (safetensors) to a GGUF file: the stored F32/F16/BF16 weights, or quantized with --type")
        {
            to, source, target, force, type,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var typeName = parseResult.GetValue(type);
            var widen = typeName == "f32";
            var request = new ConvertRequest(
                Path.GetFullPath(parseResult.GetRequiredValue(source)),
                Path.GetFullPath(parseResult.GetRequiredValue(target)),
                parseResult.GetValue(force),
                typeName is { } t && !widen ? NativeQuantizer.Parse(t)!.Value : WeightQuantization.AsStored,
                WidenToF32: widen);
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            bool interactive = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
            return await RunAsync(request, output, error, interactive, cancellationToken);
        });
        return command;
    }

    internal static async Task<int> RunAsync(ConvertRequest request, TextWriter output, TextWriter error, bool interactive,
        CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        try
        {
            var converter = new GgufConverter(request);
            converter.Prepare();
            long written = 0;
            var work = Task.Run(() => converter.Write(bytes => Interlocked.Add(ref written, bytes), cancellationToken), cancellationToken);
            await WriteProgress.ShowAsync(work, "convert", Path.GetFileName(request.OutPath), converter.TensorBytes,
                () => Interlocked.Read(ref written), error, interactive);
            await work;
            output.WriteLine(
                $"wrote {request.OutPath}: {converter.Architecture}, {converter.TensorCount} tensors, " +
                $"{new FileInfo(request.OutPath).Length:N0} bytes, {stopwatch.Elapsed.TotalSeconds:F1} s");
            return 0;
        }
        catch (ConversionException e)
        {
            error.WriteLine($"convert: {e.Message}");
            return 1;
        }
        catch (OperationCanceledException)
        {
            error.WriteLine("convert: cancelled; nothing was written");
            return 130;
        }
    }
}
