namespace OrleansLlm.Native;

/// <summary>How a request picks its tokens (orleansllm_sampling_params). Every default is the
/// native library's (orleansllm_sampling_default_params), so the two cannot drift apart.</summary>
public sealed record SamplingOptions
{
    private static readonly SamplingParams Defaults = NativeMethods.SamplingDefaultParams();

    /// <summary>0 = greedy.</summary>
    public float Temperature { get; init; } = Defaults.Temperature;

    /// <summary>Keep the k most likely tokens; 0 = all.</summary>
    public int TopK { get; init; } = Defaults.TopK;

    public float TopP { get; init; } = Defaults.TopP;

    public float MinP { get; init; } = Defaults.MinP;

    public float RepetitionPenalty { get; init; } = Defaults.RepetitionPenalty;

    public float FrequencyPenalty { get; init; } = Defaults.FrequencyPenalty;

    public float PresencePenalty { get; init; } = Defaults.PresencePenalty;

    public int MaxTokens { get; init; } = Defaults.MaxTokens;

    /// <summary>Same seed, same tokens, whatever else is batched; null = random (the native -1).</summary>
    public long? Seed { get; init; } = Defaults.Seed >= 0 ? Defaults.Seed : null;

    /// <summary>Sampling one of these ends the request (the token is part of the output).</summary>
    public IReadOnlyList<int> StopTokenIds { get; init; } = [];

    /// <summary>When false, the model's eos ids end the request too.</summary>
    public bool IgnoreEos { get; init; } = Defaults.IgnoreEos != 0;

    /// <summary>Report each token's log-probability under the model.</summary>
    public bool Logprobs { get; init; } = Defaults.Logprobs != 0;

    /// <summary>And the n most likely alternatives (0..20; needs <see cref="Logprobs"/>).</summary>
    public int TopLogprobs { get; init; } = Defaults.TopLogprobs;

    public static SamplingOptions Greedy(int maxTokens) => new() { Temperature = 0.0f, MaxTokens = maxTokens };
}
