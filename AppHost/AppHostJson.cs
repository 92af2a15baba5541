using System.Text.Json.Serialization;
using OrleansLlm.AppHost.Commands;
using OrleansLlm.AppHost.EngineBench;

namespace OrleansLlm.AppHost;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(GenerateResult))]
[JsonSerializable(typeof(DecodeBenchResult))]
internal sealed partial class AppHostJson : JsonSerializerContext;
