using System.Text.Json.Serialization;
using OrleansLlm.Cli.Commands;
using OrleansLlm.Cli.EngineBench;

namespace OrleansLlm.Cli;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(GenerateResult))]
[JsonSerializable(typeof(DecodeBenchResult))]
internal sealed partial class CliJson : JsonSerializerContext;
