namespace OrleansLlm.Runtime;

/// <summary>What a placement decision may look at.</summary>
/// <param name="LiveSilos">Active silos with a fresh heartbeat, in a stable order.</param>
/// <param name="CallerSilo">The silo making the call, or null when a client calls.</param>
public sealed record PlacementContext(GrainId GrainId, IReadOnlyList<SiloRecord> LiveSilos, SiloRecord? CallerSilo);

/// <summary>
/// Chooses the silo on which a grain without an activation should be activated. The choice is a
/// hint: the directory lease decides, so two callers choosing differently still get one activation.
/// </summary>
public interface IPlacementDirector
{
    SiloRecord PlaceGrain(PlacementContext context);
}
