namespace OrleansLlm.Grains;

[GenerateSerializer, Immutable, Alias("OrleansLlm.ChatMessageRecord")]
public sealed record ChatMessageRecord([property: Id(0)] string Role, [property: Id(1)] string Content);

public enum RoutingPolicy
{
    /// <summary>Cached prefix blocks against load, soft affinity to the previous engine.</summary>
    KvAware,

    /// <summary>Any ready engine of the model, uniformly (the baseline KV-aware routing is measured against).</summary>
    Random,
}

/// <summary>One turn: chat messages (rendered with the chat template) or a raw prompt.</summary>
[GenerateSerializer, Immutable, Alias("OrleansLlm.TurnRequest")]
public sealed record TurnRequest
{
    [Id(0)] public required string Model { get; init; }
    /// <summary>Chat: the messages of the turn. With <see cref="AppendToHistory"/> they follow the stored history; otherwise they are the whole conversation.</summary>
    [Id(1)] public ChatMessageRecord[]? Messages { get; init; }
    /// <summary>Completions: the raw prompt (no template).</summary>
    [Id(2)] public string? Prompt { get; init; }
    [Id(3)] public bool AppendToHistory { get; init; }
    [Id(4)] public SamplingSettings Sampling { get; init; } = new();
    [Id(5)] public string[] Stop { get; init; } = [];
    /// <summary>Mixed into block 0's hash: tenants never share cached blocks.</summary>
    [Id(6)] public string Tenant { get; init; } = "";
    [Id(7)] public RoutingPolicy? Routing { get; init; }
}

[GenerateSerializer, Immutable, Alias("OrleansLlm.TokenLogprob")]
public sealed record TokenLogprobRecord(
    [property: Id(0)] string Token,
    [property: Id(1)] float Logprob,
    [property: Id(2)] TokenLogprobAlternative[] Top);

[GenerateSerializer, Immutable, Alias("OrleansLlm.TokenLogprobAlternative")]
public sealed record TokenLogprobAlternative([property: Id(0)] string Token, [property: Id(1)] float Logprob);

[GenerateSerializer, Immutable, Alias("OrleansLlm.TurnUsage")]
public sealed record TurnUsage(
    [property: Id(0)] int PromptTokens,
    [property: Id(1)] int CompletionTokens,
    [property: Id(2)] int CachedPromptTokens);

/// <summary>A piece of a turn's reply. The last chunk carries <see cref="FinishReason"/> and <see cref="Usage"/>.</summary>
[GenerateSerializer, Immutable, Alias("OrleansLlm.TurnChunk")]
public sealed record TurnChunk
{
    [Id(0)] public string Text { get; init; } = "";
    [Id(1)] public TokenLogprobRecord[] Logprobs { get; init; } = [];
    [Id(2)] public string? FinishReason { get; init; }
    [Id(3)] public TurnUsage? Usage { get; init; }
    [Id(4)] public string Engine { get; init; } = "";
}

[GenerateSerializer, Immutable, Alias("OrleansLlm.SessionMessage")]
public sealed record SessionMessage(
    [property: Id(0)] string Role,
    [property: Id(1)] string Content,
    [property: Id(2)] int[] TokenIds,
    [property: Id(3)] DateTime CreatedUtc);

/// <summary>What <c>GET /v1/sessions/{id}</c> shows.</summary>
[GenerateSerializer, Immutable, Alias("OrleansLlm.SessionView")]
public sealed record SessionView(
    [property: Id(0)] string Id,
    [property: Id(1)] string? Model,
    [property: Id(2)] SessionMessage[] Messages,
    [property: Id(3)] string? LastEngine,
    [property: Id(4)] string Silo,
    [property: Id(5)] bool Exists,
    [property: Id(6)] int TurnCount);
