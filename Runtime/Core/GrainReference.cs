namespace OrleansLlm.Runtime;

/// <summary>
/// The addressable handle behind every grain proxy. Proxies forward each interface method here
/// by name, with the arguments (without the cancellation token) in order.
/// </summary>
public sealed class GrainReference
{
    private readonly GrainInterfaceInfo _interface;
    private readonly CallPipeline _pipeline;

    internal GrainReference(GrainId grainId, GrainInterfaceInfo info, CallPipeline pipeline)
    {
        GrainId = grainId;
        _interface = info;
        _pipeline = pipeline;
    }

    public GrainId GrainId { get; }

    /// <summary>Calls a method returning <c>Task</c>.</summary>
    public Task InvokeAsync(string method, object?[] arguments, CancellationToken cancellationToken = default)
    {
        var info = _interface.GetMethod(method) as TaskMethod
            ?? throw new ArgumentException($"{method} does not return Task");
        info.CheckArgumentCount(arguments);
        return _pipeline.InvokeAsync<object>(GrainId, _interface, info, null, arguments, cancellationToken);
    }

    /// <summary>Calls a method returning <c>Task&lt;TResult&gt;</c>.</summary>
    public async Task<TResult> InvokeAsync<TResult>(string method, object?[] arguments, CancellationToken cancellationToken = default)
    {
        var info = _interface.GetMethod(method) as TaskMethod<TResult>
            ?? throw new ArgumentException($"{method} does not return Task<{typeof(TResult).Name}>");
        info.CheckArgumentCount(arguments);
        return (await _pipeline.InvokeAsync(GrainId, _interface, info, info.ResultType, arguments, cancellationToken).ConfigureAwait(false))!;
    }

    /// <summary>Calls a method returning <c>IAsyncEnumerable&lt;TItem&gt;</c>; items arrive with back-pressure.</summary>
    public IAsyncEnumerable<TItem> StreamAsync<TItem>(string method, object?[] arguments, CancellationToken cancellationToken = default)
    {
        var info = _interface.GetMethod(method) as StreamMethod<TItem>
            ?? throw new ArgumentException($"{method} does not return IAsyncEnumerable<{typeof(TItem).Name}>");
        info.CheckArgumentCount(arguments);
        return _pipeline.StreamAsync(GrainId, _interface, info, arguments, cancellationToken);
    }

    public override string ToString() => GrainId.ToString();
}
