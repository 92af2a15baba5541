namespace OrleansLlm.Runtime;

/// <summary>All calls to this grain class may interleave at await points (still one turn at a time).</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = true)]
public sealed class ReentrantAttribute : Attribute;

/// <summary>Calls to this interface method interleave with any other call, even on a non-reentrant grain.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class AlwaysInterleaveAttribute : Attribute;

/// <summary>
/// Pinned placement: the grain key names the silo that hosts it (<c>siloName</c> or
/// <c>siloName/anything</c>). Used for grains bound to local hardware such as engine grains.
/// </summary>
[AttributeUsage(AttributeTargets.Interface)]
public sealed class PinnedPlacementAttribute : Attribute;
