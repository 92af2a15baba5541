namespace OrleansLlm.Runtime.TestSilo;

/// <summary>A grain whose key names its silo, like an engine grain.</summary>
[PinnedPlacement]
public interface IPinnedGrain : IGrainWithStringKey
{
    Task<string> HostSilo();
}

/// <summary>A grain placed by a custom director.</summary>
public interface IDirectedGrain : IGrainWithStringKey
{
    Task<string> HostSilo();
}

/// <summary>A grain placed on whichever silo calls it first (so other silos' calls hit the wrong silo and are redirected).</summary>
public interface ILocalFirstGrain : IGrainWithStringKey
{
    Task<string> HostSilo();
}

internal sealed class HostSiloProxy(GrainReference grain) : IPinnedGrain, IDirectedGrain, ILocalFirstGrain
{
    public Task<string> HostSilo() => grain.InvokeAsync<string>(nameof(HostSilo), []);
}

public sealed class HostSiloGrain : Grain, IPinnedGrain, IDirectedGrain, ILocalFirstGrain
{
    public Task<string> HostSilo() => Task.FromResult(Context.SiloName);
}

/// <summary>Places every grain on the live silo whose name comes last alphabetically.</summary>
public sealed class LastSiloPlacement : IPlacementDirector
{
    public SiloRecord PlaceGrain(PlacementContext context) =>
        context.LiveSilos.OrderBy(s => s.Name, StringComparer.Ordinal).LastOrDefault()
        ?? throw new NoSiloAvailableException("no live silo");
}

/// <summary>Places a grain on the calling silo (any live silo for clients).</summary>
public sealed class CallerSiloPlacement : IPlacementDirector
{
    public SiloRecord PlaceGrain(PlacementContext context) =>
        context.CallerSilo ?? context.LiveSilos.FirstOrDefault() ?? throw new NoSiloAvailableException("no live silo");
}
