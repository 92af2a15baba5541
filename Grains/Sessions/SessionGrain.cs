using System.Runtime.CompilerServices;
using Orleans.Concurrency;
using Orleans.Runtime;
using OrleansLlm.Grains.Routing;

namespace OrleansLlm.Grains.Sessions;

[GenerateSerializer, Alias("OrleansLlm.SessionState")]
public sealed class SessionState
{
    [Id(0)] public bool Exists { get; set; }
    [Id(1)] public string? Model { get; set; }
    [Id(2)] public List<SessionMessage> Messages { get; set; } = [];
    /// <summary>The token ids of the last turn's prompt (the KV prefix the next turn hopes to reuse).</summary>
    [Id(3)] public int[] LastPromptTokenIds { get; set; } = [];
    [Id(4)] public string? LastEngine { get; set; }
    [Id(5)] public int TurnCount { get; set; }
}

/// <summary>
/// A chat session. Reentrant so that reads answer during a turn; a second turn while one runs is
/// refused (<see cref="SessionBusyException"/>). The turn is written (ETag-checked) before its
/// last chunk is yielded, so a client that saw the end of a reply finds it in the history.
/// </summary>
[Reentrant]
public sealed class SessionGrain(
    [PersistentState("session", PlatformNames.SessionStorage)] IPersistentState<SessionState> state,
    TurnRunner runner,
    ILocalSiloDetails silo) : Grain, ISessionGrain
{
    private bool _turnRunning;

    public async IAsyncEnumerable<TurnChunk> Chat(TurnRequest turn, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (_turnRunning)
        {
            throw new SessionBusyException($"session '{this.GetPrimaryKeyString()}' is already running a turn; wait for it to finish");
        }
        if (state.State.Model is { } model && model != turn.Model)
        {
            throw new InvalidTurnException($"session '{this.GetPrimaryKeyString()}' uses model '{model}', not '{turn.Model}'", "model");
        }
        _turnRunning = true;
        try
        {
            var incoming = turn.Messages ?? throw new InvalidTurnException("a session turn needs messages", "messages");
            var conversation = turn.AppendToHistory
                ? [.. state.State.Messages.Select(m => new ChatMessageRecord(m.Role, m.Content)), .. incoming]
                : incoming.ToList();
            var previous = state.State.LastEngine is { } engine ? new PreviousTurn(engine, state.State.LastPromptTokenIds) : null;
            await foreach (var chunk in runner.RunAsync(turn, conversation, previous,
                outcome => PersistAsync(turn.Model, conversation, outcome), cancellationToken))
            {
                yield return chunk;
            }
        }
        finally
        {
            _turnRunning = false;
        }
    }

    public async Task<SessionView> Create(string model, ChatMessageRecord[] messages)
    {
        if (state.State.Exists)
        {
            throw new InvalidTurnException($"session '{this.GetPrimaryKeyString()}' already exists", "id", "session_exists", 409);
        }
        var now = DateTime.UtcNow;
        state.State = new SessionState
        {
            Exists = true,
            Model = model,
            Messages = messages.Select(m => new SessionMessage(m.Role, m.Content, [], now)).ToList(),
        };
        await state.WriteStateAsync();
        return View();
    }

    public Task<SessionView> Get() => Task.FromResult(View());

    public async Task<bool> Delete()
    {
        if (_turnRunning)
        {
            throw new SessionBusyException($"session '{this.GetPrimaryKeyString()}' is running a turn; delete it afterwards");
        }
        var existed = state.State.Exists;
        await state.ClearStateAsync();
        state.State = new SessionState();
        DeactivateOnIdle();
        return existed;
    }

    private async Task PersistAsync(string model, List<ChatMessageRecord> conversation, TurnOutcome outcome)
    {
        var now = DateTime.UtcNow;
        var previous = state.State.Messages;
        var messages = new List<SessionMessage>(conversation.Count + 1);
        for (var i = 0; i < conversation.Count; i++)
        {
            // keep what was stored (token ids, times) for messages that did not change
            messages.Add(i < previous.Count && previous[i].Role == conversation[i].Role && previous[i].Content == conversation[i].Content
                ? previous[i]
                : new SessionMessage(conversation[i].Role, conversation[i].Content, [], now));
        }
        messages.Add(new SessionMessage("assistant", outcome.Text, outcome.OutputTokenIds, now));
        state.State.Exists = true;
        state.State.Model = model;
        state.State.Messages = messages;
        state.State.LastPromptTokenIds = outcome.PromptTokenIds;
        state.State.LastEngine = outcome.Engine;
        state.State.TurnCount++;
        await state.WriteStateAsync();
    }

    private SessionView View() => new(this.GetPrimaryKeyString(), state.State.Model, [.. state.State.Messages], state.State.LastEngine,
        silo.Name, state.State.Exists, state.State.TurnCount);
}
