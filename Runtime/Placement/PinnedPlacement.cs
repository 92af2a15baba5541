namespace OrleansLlm.Runtime;

/// <summary>Placement of <see cref="PinnedPlacementAttribute"/> grains: the key's first segment names the silo.</summary>
public sealed class PinnedPlacement : IPlacementDirector
{
    public static PinnedPlacement Instance { get; } = new();

    public static string SiloNameOf(GrainId grainId)
    {
        var slash = grainId.Key.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? grainId.Key : grainId.Key[..slash];
    }

    public SiloRecord PlaceGrain(PlacementContext context)
    {
        var name = SiloNameOf(context.GrainId);
        foreach (var silo in context.LiveSilos)
        {
            if (silo.Name == name)
            {
                return silo;
            }
        }
        throw new NoSiloAvailableException($"{context.GrainId} is pinned to silo '{name}', which is not live");
    }
}
