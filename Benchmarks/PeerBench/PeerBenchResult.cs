using System.Text.Json.Serialization;

namespace OrleansLlm.PeerBench;

/// <summary>One figure measured on both engines; <c>Ratio</c> is ours / llama.cpp (above 1: we are faster).</summary>
internal sealed record Comparison(double OursTokensPerS, double LlamaCppTokensPerS, double Ratio)
{
    public static Comparison Of(double ours, double llamaCpp) => new(Round(ours), Round(llamaCpp), Math.Round(ours / llamaCpp, 3));

    private static double Round(double value) => Math.Round(value, 2);
}

internal sealed record BatchedComparison(int Sequences, int PromptTokens, int DecodeSteps, Comparison TotalTokensPerS);

/// <param name="OursKvCache">Our KV cache type as asked ("default": BF16 for BF16 and quantized weights).</param>
internal sealed record ModelFigures(string File, string Architecture, string WeightDtype, int VocabSize, int Layers, int HiddenSize,
    long WeightBytes, string OursKvCache, long OursKvBytesPerToken);

/// <summary>Everything `orleansllm bench peer --json` prints.</summary>
internal sealed record PeerBenchResult(
    ModelFigures Model,
    int Threads,
    string CpuModel,
    IReadOnlyList<string> CpuFeatures,
    string OursKernels,
    LlamaCppBuild LlamaCpp,
    int PrefillTokens,
    Comparison? Prefill,
    int DecodeTokens,
    Comparison? Decode,
    IReadOnlyList<BatchedComparison>? BatchedDecode,
    LogitsAgreement Logits,
    IReadOnlyList<VariantAgreement> LlamaCppSelfAgreement,
    ReferenceAgreement? Reference);

/// <summary>llama.cpp's logits under <c>Variant</c> compared with its default's: how far it moves
/// under settings it treats as equivalent.</summary>
internal sealed record VariantAgreement(string Variant, LogitsAgreement Agreement);

/// <summary>Each engine's logits on the model compared with reference logits: <c>Computed</c> says
/// how (llama.cpp on <c>File</c>, the same weights in more precision).</summary>
internal sealed record ReferenceAgreement(string File, string Computed, LogitsAgreement Ours, LogitsAgreement LlamaCpp);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(PeerBenchResult))]
internal sealed partial class PeerBenchJson : JsonSerializerContext;
