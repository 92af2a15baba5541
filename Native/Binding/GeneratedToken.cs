namespace OrleansLlm.Native;

/// <summary>Why a request ended.</summary>
public enum FinishReason
{
    /// <summary>A stop token or an eos id was sampled.</summary>
    Stop = 1,

    /// <summary>MaxTokens or the context limit was reached.</summary>
    Length = 2,

    /// <summary>Aborted.</summary>
    Abort = 3,
}

public readonly record struct TokenLogprob(int TokenId, float Logprob);

/// <summary>
/// One token of a request's output. <see cref="FinishReason"/> is set on the last one.
/// <see cref="CachedPromptTokens"/> counts prompt tokens served by the prefix cache.
/// </summary>
public sealed record GeneratedToken(
    int TokenId,
    float? Logprob,
    IReadOnlyList<TokenLogprob> TopLogprobs,
    FinishReason? FinishReason,
    int PromptTokens,
    int CachedPromptTokens);
