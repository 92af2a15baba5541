namespace OrleansLlm.Runtime;

/// <summary>Why an activation is being deactivated.</summary>
public enum DeactivationReason
{
    Idle,
    Requested,
    SiloShutdown,
    LeaseLost,
    ActivationFailed,
}

/// <summary>
/// Base class of grain implementations. Code in a grain runs one turn at a time on its
/// activation's scheduler; see <see cref="ReentrantAttribute"/> and <see cref="AlwaysInterleaveAttribute"/>.
/// </summary>
public abstract class Grain
{
    private IGrainContext? _context;

    /// <summary>The activation context; available from <see cref="OnActivateAsync"/> on.</summary>
    protected IGrainContext Context => _context ?? throw new InvalidOperationException("the grain is not activated yet");

    protected GrainId GrainId => Context.GrainId;

    protected IGrainFactory GrainFactory => Context.GrainFactory;

    public string GetPrimaryKeyString() => Context.GrainId.Key;

    /// <summary>Asks the runtime to deactivate this activation once the current turn ends.</summary>
    protected void DeactivateOnIdle() => Context.DeactivateOnIdle();

    public virtual Task OnActivateAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public virtual Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => Task.CompletedTask;

    internal void Attach(IGrainContext context) => _context = context;
}

/// <summary>What a grain sees of its activation and silo.</summary>
public interface IGrainContext
{
    GrainId GrainId { get; }

    IGrainFactory GrainFactory { get; }

    /// <summary>Name of the hosting silo (stable across restarts of that silo).</summary>
    string SiloName { get; }

    /// <summary>Capabilities the hosting silo advertises (e.g. <c>device=cuda:0</c>).</summary>
    IReadOnlyDictionary<string, string> SiloCapabilities { get; }

    /// <summary>Application services given to the silo (may be empty).</summary>
    IServiceProvider Services { get; }

    /// <summary>
    /// Declares a persisted state of this activation. Call from the grain factory delegate; the
    /// state is read before <see cref="Grain.OnActivateAsync"/>.
    /// </summary>
    IPersistentState<TState> GetPersistentState<TState>(string stateName, string? storageName = null)
        where TState : new();

    void DeactivateOnIdle();
}
