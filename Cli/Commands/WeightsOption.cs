using System.CommandLine;
using OrleansLlm.Native;

namespace OrleansLlm.Cli.Commands;

/// <summary>`--weights q8_0|q4_0|q4_k_m`: quantize the model's matrices at load (docs/QUANTIZATION.md).</summary>
internal static class WeightsOption
{
    public static Option<string?> Create() => new("--weights")
    {
        Description = "Quantize the weights at load: q8_0, q4_0 or q4_k_m (default: as stored)",
        Validators =
        {
            result =>
            {
                if (result.GetValueOrDefault<string?>() is { } v && NativeQuantizer.Parse(v) is null)
                {
                    result.AddError($"--weights must be q8_0, q4_0 or q4_k_m, not '{v}'");
                }
            },
        },
    };

    public static WeightQuantization Value(ParseResult r, Option<string?> option) =>
        r.GetValue(option) is { } v ? NativeQuantizer.Parse(v)!.Value : WeightQuantization.AsStored;
}
