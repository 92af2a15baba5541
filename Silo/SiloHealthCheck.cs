using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orleans.Runtime;

namespace OrleansLlm.Silo;

/// <summary>Healthy once this silo is an active member of its cluster.</summary>
public sealed class SiloHealthCheck(IClusterMembershipService membership, ILocalSiloDetails local) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var status = membership.CurrentSnapshot.GetSiloStatus(local.SiloAddress);
        return Task.FromResult(status == SiloStatus.Active
            ? HealthCheckResult.Healthy($"{local.Name} is active")
            : HealthCheckResult.Unhealthy($"{local.Name} is {status}"));
    }
}
