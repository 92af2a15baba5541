using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Runtime.Placement;

namespace OrleansLlm.Grains.Engines;

/// <summary>An engine grain lives on the silo named in its key ("silo/device"), nowhere else.</summary>
[Serializable, GenerateSerializer, Immutable, SuppressReferenceTracking]
public sealed class DevicePlacement : PlacementStrategy
{
    internal static DevicePlacement Instance { get; } = new();
}

[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class DevicePlacementAttribute() : PlacementAttribute(DevicePlacement.Instance);

/// <summary>
/// Places an engine on the active silo whose name is the key's silo part. When that silo is not
/// an active member, activation fails at once with <see cref="EngineUnavailableException"/>:
/// an engine activated elsewhere would own no device.
/// </summary>
public sealed class DevicePlacementDirector(IClusterMembershipService membership) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var engineId = target.GrainIdentity.Key.ToString()!;
        var (siloName, device) = EngineId.Parse(engineId);
        var compatible = context.GetCompatibleSilos(target);
        foreach (var member in membership.CurrentSnapshot.Members.Values)
        {
            if (member.Name == siloName && member.Status == SiloStatus.Active && compatible.Contains(member.SiloAddress))
            {
                return Task.FromResult(member.SiloAddress);
            }
        }
        throw new EngineUnavailableException(
            $"engine '{engineId}' is unavailable: its silo '{siloName}' (which owns device '{device}') is not an active member of the cluster");
    }
}
