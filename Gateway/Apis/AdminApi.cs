using System.Text.Json.Nodes;
using Orleans.Runtime;
using OrleansLlm.Grains;

namespace OrleansLlm.Gateway.Apis;

/// <summary><c>GET /admin/cluster[?live=true]</c>: silos (membership status, pid) and engines (state, load); <c>/ready</c>.</summary>
public static class AdminApi
{
    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/admin/cluster", ClusterAsync);
        app.MapGet("/ready", ReadyAsync);
        return app;
    }

    /// <param name="live">Ask each engine on an active silo for its status now, instead of the
    /// routers' board (fed by a stream, reconciled every few seconds); an engine that does not
    /// answer within 2 s keeps the board's.</param>
    private static async Task<IResult> ClusterAsync(IClusterClient cluster, GrainCallPipeline pipeline, CancellationToken cancel, bool live = false)
    {
        var hosts = await pipeline.RunAsync(_ => cluster.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: false), cancel);
        var registry = cluster.GetGrain<IEngineRegistryGrain>(PlatformNames.RegistryKey);
        var silos = (await pipeline.RunAsync(_ => registry.ListSilos(), cancel)).ToDictionary(s => s.Name);
        var engines = await pipeline.RunAsync(_ => cluster.GetGrain<IRouterGrain>(0).Engines(), cancel);
        // a silo restarted under its name has a dead entry too: the name is up when any of its entries is active
        var status = hosts.GroupBy(h => h.SiloName)
            .ToDictionary(g => g.Key, g => g.Any(h => h.Status == SiloStatus.Active) ? SiloStatus.Active : g.First().Status);
        if (live)
        {
            engines = await Task.WhenAll(engines.Select(async e =>
            {
                if (status.GetValueOrDefault(e.Silo) != SiloStatus.Active)
                {
                    return e;
                }
                try
                {
                    return await cluster.GetGrain<IEngineGrain>(e.EngineId).GetStatus().WaitAsync(TimeSpan.FromSeconds(2), cancel);
                }
                catch (Exception) when (!cancel.IsCancellationRequested)
                {
                    return e;
                }
            }));
        }
        return TypedResults.Json(new JsonObject
        {
            ["silos"] = new JsonArray([.. hosts.OrderBy(h => h.SiloName).Select(h => (JsonNode)new JsonObject
            {
                ["id"] = h.SiloName,
                ["address"] = h.SiloAddress.ToParsableString(),
                ["pid"] = silos.TryGetValue(h.SiloName, out var s) ? s.ProcessId : null,
                ["status"] = h.Status.ToString().ToLowerInvariant(),
            })]),
            ["engines"] = new JsonArray([.. engines.Select(e => (JsonNode)new JsonObject
            {
                ["id"] = e.EngineId,
                ["silo"] = e.Silo,
                ["device"] = e.Device,
                ["model"] = e.Model,
                ["state"] = status.GetValueOrDefault(e.Silo) == SiloStatus.Active ? e.State.ToString().ToLowerInvariant() : "silo_down",
                ["running"] = e.Running,
                ["waiting"] = e.Waiting,
                ["kv_usage"] = e.KvUsage,
            })]),
        });
    }

    /// <summary>Ready when at least one engine can serve: registered, not failed, its silo active.</summary>
    private static async Task<IResult> ReadyAsync(HttpContext http, IClusterClient cluster, GrainCallPipeline pipeline)
    {
        var names = (await pipeline.RunAsync(_ => cluster.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: true), http.RequestAborted))
            .Select(h => h.SiloName).ToHashSet();
        var engines = await pipeline.RunAsync(_ => cluster.GetGrain<IRouterGrain>(0).Engines(), http.RequestAborted);
        var ready = engines.Where(e => e.State != EngineState.Failed && names.Contains(e.Silo)).Select(e => e.EngineId).ToArray();
        var body = new JsonObject { ["ready"] = ready.Length > 0, ["engines"] = new JsonArray([.. ready.Select(e => (JsonNode)JsonValue.Create(e)!)]), ["silos"] = names.Count };
        return ready.Length > 0 ? TypedResults.Json(body) : TypedResults.Json(body, statusCode: 503);
    }
}
