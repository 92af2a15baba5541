namespace OrleansLlm.Native;

/// <summary>How a request picks its tokens (orleansllm_sampling_params).</summary>
public sealed record SamplingOptions
{
    /// <summary>0 = greedy.</summary>
    public float Temperature { get; init; } = 1.0f;

    /// <summary>Keep the k most likely tokens; 0 = all.</summary>
    public int TopK { get; init; }

    public float TopP { get; init; } = 1.0f;

    public float MinP { get; init; }

    public float RepetitionPenalty { get; init; } = 1.0f;

    public float FrequencyPenalty { get; init; }

    public float PresencePenalty { get; init; }

    public int MaxTokens { get; init; } = 16;

    /// <summary>Same seed, same tokens, whatever else is batched; null = random.</summary>
    public long? Seed { get; init; }

    /// <summary>Sampling one of these ends the request (the token is part of the output).</summary>
    public IReadOnlyList<int> StopTokenIds { get; init; } = [];

    /// <summary>When false, the model's eos ids end the request too.</summary>
    public bool IgnoreEos { get; init; }

    /// <summary>Report each token's log-probability under the model.</summary>
    public bool Logprobs { get; init; }

    /// <summary>And the n most likely alternatives (0..20; needs <see cref="Logprobs"/>).</summary>
    public int TopLogprobs { get; init; }

    public static SamplingOptions Greedy(int maxTokens) => new() { Temperature = 0.0f, MaxTokens = maxTokens };
}
