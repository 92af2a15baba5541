namespace OrleansLlm.Cli.ModelMaking;

/// <summary>`rope_scaling` of type `llama3` (Llama 3.1 and 3.2): long wavelengths are slowed by
/// <see cref="Factor"/>, short ones kept, the band between interpolated.</summary>
internal sealed record Llama3RopeScaling(
    double Factor,
    double LowFreqFactor,
    double HighFreqFactor,
    int OriginalMaxPositionEmbeddings);

/// <summary>The shapes and hyper-parameters of one real checkpoint, as its config.json states them.</summary>
internal sealed record ModelPreset(
    string Name,
    ModelArchitecture NaturalArchitecture,
    int VocabSize,
    int HiddenSize,
    int IntermediateSize,
    int LayerCount,
    int HeadCount,
    int KvHeadCount,
    int HeadDim,
    int MaxPositionEmbeddings,
    double RmsNormEps,
    double RopeTheta,
    Llama3RopeScaling? RopeScaling,
    bool TieWordEmbeddings,
    int BosTokenId,
    int EosTokenId);

internal static class ModelPresets
{
    /// <summary>A few-MB model for tests: GQA (4 query heads over 2 kv heads), untied lm_head.
    /// Its token ids are those of the synthetic tokenizer's specials (the last three ids).</summary>
    public static readonly ModelPreset Tiny = new(
        "tiny", ModelArchitecture.Llama,
        VocabSize: 2048, HiddenSize: 128, IntermediateSize: 384, LayerCount: 2,
        HeadCount: 4, KvHeadCount: 2, HeadDim: 32, MaxPositionEmbeddings: 2048,
        RmsNormEps: 1e-5, RopeTheta: 10000.0, RopeScaling: null, TieWordEmbeddings: false,
        BosTokenId: 2045, EosTokenId: 2047);

    /// <summary>HuggingFaceTB/SmolLM2-135M.</summary>
    public static readonly ModelPreset SmolLm2_135M = new(
        "smollm2-135m", ModelArchitecture.Llama,
        VocabSize: 49152, HiddenSize: 576, IntermediateSize: 1536, LayerCount: 30,
        HeadCount: 9, KvHeadCount: 3, HeadDim: 64, MaxPositionEmbeddings: 8192,
        RmsNormEps: 1e-5, RopeTheta: 100000.0, RopeScaling: null, TieWordEmbeddings: true,
        BosTokenId: 0, EosTokenId: 0);

    /// <summary>Qwen/Qwen3-0.6B: head_dim 128 is not hidden/heads (64).</summary>
    public static readonly ModelPreset Qwen3_0_6B = new(
        "qwen3-0.6b", ModelArchitecture.Qwen3,
        VocabSize: 151936, HiddenSize: 1024, IntermediateSize: 3072, LayerCount: 28,
        HeadCount: 16, KvHeadCount: 8, HeadDim: 128, MaxPositionEmbeddings: 40960,
        RmsNormEps: 1e-6, RopeTheta: 1000000.0, RopeScaling: null, TieWordEmbeddings: true,
        BosTokenId: 151643, EosTokenId: 151645);

    /// <summary>meta-llama/Llama-3.2-1B.</summary>
    public static readonly ModelPreset Llama3_1B = new(
        "llama3-1b", ModelArchitecture.Llama,
        VocabSize: 128256, HiddenSize: 2048, IntermediateSize: 8192, LayerCount: 16,
        HeadCount: 32, KvHeadCount: 8, HeadDim: 64, MaxPositionEmbeddings: 131072,
        RmsNormEps: 1e-5, RopeTheta: 500000.0,
        RopeScaling: new Llama3RopeScaling(Factor: 32.0, LowFreqFactor: 1.0, HighFreqFactor: 4.0, OriginalMaxPositionEmbeddings: 8192),
        TieWordEmbeddings: true,
        BosTokenId: 128000, EosTokenId: 128001);

    /// <summary>meta-llama/Llama-3.1-8B.</summary>
    public static readonly ModelPreset Llama3_8B = new(
        "llama3-8b", ModelArchitecture.Llama,
        VocabSize: 128256, HiddenSize: 4096, IntermediateSize: 14336, LayerCount: 32,
        HeadCount: 32, KvHeadCount: 8, HeadDim: 128, MaxPositionEmbeddings: 131072,
        RmsNormEps: 1e-5, RopeTheta: 500000.0,
        RopeScaling: new Llama3RopeScaling(Factor: 8.0, LowFreqFactor: 1.0, HighFreqFactor: 4.0, OriginalMaxPositionEmbeddings: 8192),
        TieWordEmbeddings: false,
        BosTokenId: 128000, EosTokenId: 128001);

    public static IReadOnlyList<ModelPreset> All { get; } = [Tiny, SmolLm2_135M, Qwen3_0_6B, Llama3_1B, Llama3_8B];

    public static IReadOnlyList<string> Names { get; } = All.Select(p => p.Name).ToArray();

    public static bool TryGet(string name, out ModelPreset preset)
    {
        preset = All.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))!;
        return preset is not null;
    }
}
