namespace OrleansLlm.Grains;

/// <summary>
/// One chat session (key: the session id). Keeps the conversation, routes each turn to the engine
/// that holds its prefix, and persists the turn before the last chunk is sent. One turn at a time:
/// a second concurrent turn throws <see cref="SessionBusyException"/>.
/// </summary>
[Alias("OrleansLlm.ISessionGrain")]
public interface ISessionGrain : IGrainWithStringKey
{
    [Alias("Chat")]
    IAsyncEnumerable<TurnChunk> Chat(TurnRequest turn, CancellationToken cancellationToken = default);

    [Alias("Create")]
    Task<SessionView> Create(string model, ChatMessageRecord[] messages);

    [Alias("Get")]
    Task<SessionView> Get();

    /// <summary>Forgets the session; false when it did not exist.</summary>
    [Alias("Delete")]
    Task<bool> Delete();
}

/// <summary>Turns without a session: the same routing and streaming, no history (a stateless worker per silo).</summary>
[Alias("OrleansLlm.IRouterGrain")]
public interface IRouterGrain : IGrainWithIntegerKey
{
    [Alias("Complete")]
    IAsyncEnumerable<TurnChunk> Complete(TurnRequest turn, CancellationToken cancellationToken = default);

    /// <summary>The models some registered engine serves.</summary>
    [Alias("Models")]
    Task<string[]> Models();

    [Alias("Tokenize")]
    Task<int[]> Tokenize(string model, string text, bool addSpecialTokens);

    /// <summary>A conversation's prompt tokens: the chat template rendered with the generation prompt, then tokenized.</summary>
    [Alias("TokenizeChat")]
    Task<int[]> TokenizeChat(string model, ChatMessageRecord[] messages);

    [Alias("Detokenize")]
    Task<string> Detokenize(string model, int[] tokenIds);

    /// <summary>Every engine's last status as this silo's board has it.</summary>
    [Alias("Engines")]
    Task<EngineStatus[]> Engines();
}
