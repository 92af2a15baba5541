using OrleansLlm.AppHost;
// The local cluster: redis-server, N silos (one CPU engine each) and the gateway, with the Aspire
// dashboard. `dotnet run --project AppHost -- --Silos 2 --GatewayPort 8000`.
// Optional: --RedisPort (6390), --SiloPort / --SiloGatewayPort (first Orleans ports, 11111 / 30000,
// one more per silo), --Artifacts (folder for redis data and the demo model, artifacts/apphost).
var builder = DistributedApplication.CreateBuilder(args);
var siloCount = int.Parse(builder.Configuration["Silos"] ?? "2");
var gatewayPort = int.Parse(builder.Configuration["GatewayPort"] ?? "8000");
var redisPort = int.Parse(builder.Configuration["RedisPort"] ?? "6390");
var siloPortBase = int.Parse(builder.Configuration["SiloPort"] ?? "11111");
var siloGatewayPortBase = int.Parse(builder.Configuration["SiloGatewayPort"] ?? "30000");
var artifacts = Path.GetFullPath(builder.Configuration["Artifacts"] ?? Path.Combine(builder.AppHostDirectory, "..", "artifacts", "apphost"));
var modelDir = builder.Configuration["Model"] ?? Path.Combine(artifacts, "demo-model");

var redis = builder.AddLocalRedis(redisPort, Path.Combine(artifacts, "redis"));
var redisConnection = builder.AddConnectionString("redis", ReferenceExpression.Create($"127.0.0.1:{redisPort.ToString(System.Globalization.CultureInfo.InvariantCulture)}"));

// A random-weight demo model, made once, unless --Model names a Hugging Face folder.
var model = builder.Configuration["Model"] is null
    ? builder.AddProject<Projects.Cli>("demo-model")
        .WithArgs("make-model", "--preset", "tiny", "--dtype", "bf16", "--seed", "1", "--out", modelDir, "--force")
    : null;

var silos = new List<IResourceBuilder<ProjectResource>>();
for (var i = 0; i < siloCount; i++)
{
    var siloName = $"silo-{i}";
    var silo = builder.AddProject<Projects.Silo>(siloName)
        .WithReference(redisConnection)
        .WaitFor(redis)
        .WithEnvironment("Cluster__SiloName", siloName)
        .WithEnvironment("Cluster__SiloPort", (siloPortBase + i).ToString())
        .WithEnvironment("Cluster__GatewayPort", (siloGatewayPortBase + i).ToString())
        .WithEnvironment("OrleansLlm__Models__demo__Path", modelDir)
        .WithEnvironment("OrleansLlm__Engines__0__Device", "cpu0")
        .WithEnvironment("OrleansLlm__Engines__0__Model", "demo")
        .WithEnvironment("OrleansLlm__Engines__0__Threads", "1")
        .WithEnvironment("OrleansLlm__Engines__0__KvCacheMiB", "256")
        .WithHttpEndpoint(name: "http")
        .WithHttpHealthCheck("/health");
    if (model is not null)
    {
        silo.WaitForCompletion(model);
    }
    silos.Add(silo);
}

var gateway = builder.AddProject<Projects.Gateway>("gateway")
    .WithReference(redisConnection)
    .WithHttpEndpoint(port: gatewayPort, name: "http")
    .WithHttpHealthCheck("/health");
foreach (var silo in silos)
{
    gateway.WaitFor(silo);
}

builder.Build().Run();
