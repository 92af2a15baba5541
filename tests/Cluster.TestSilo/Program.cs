using OrleansLlm.Cluster.TestSilo;
using OrleansLlm.Silo;

// One silo of the cluster tests: `--Cluster:SiloName=s1 --Cluster:SiloPort=.. --Cluster:GatewayPort=..
// --Cluster:ClusterId=.. --ConnectionStrings:redis=127.0.0.1:PORT`; prints "READY <name> <silo address>" once the silo is active.
var builder = WebApplication.CreateBuilder(args);
if (string.IsNullOrEmpty(builder.Configuration["urls"]))
{
    builder.WebHost.UseUrls("http://127.0.0.1:0");
}
builder.AddOrleansLlmSilo();
builder.Services.AddSingleton<ActivationOracle>();

var app = builder.Build();
// the silo host connects to Redis lazily, on first use; a grain activation is a bad place for a synchronous connect
app.Services.GetRequiredService<StackExchange.Redis.IConnectionMultiplexer>();
await app.StartAsync();
Console.WriteLine($"READY {builder.Configuration["Cluster:SiloName"]} {app.Services.GetRequiredService<Orleans.Runtime.ILocalSiloDetails>().SiloAddress}");
await app.WaitForShutdownAsync();
