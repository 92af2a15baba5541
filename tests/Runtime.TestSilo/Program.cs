using System.Globalization;
using Microsoft.Extensions.Logging;
using OrleansLlm.Runtime;
using OrleansLlm.Runtime.TestSilo;
using StackExchange.Redis;

// A silo in its own process, for tests that kill silos:
//   OrleansLlm.Runtime.TestSilo --redis HOST:PORT --cluster ID --name NAME [--lease-ms N] [--heartbeat-ms N] [--death-ms N]
// Prints "READY <silo id> <address>" once it serves calls; stops gracefully when stdin closes.
var settings = new Dictionary<string, string>();
for (var i = 0; i + 1 < args.Length; i += 2)
{
    settings[args[i].TrimStart('-')] = args[i + 1];
}
if (!settings.TryGetValue("redis", out var redisConfiguration) || !settings.TryGetValue("name", out var name))
{
    Console.Error.WriteLine("usage: OrleansLlm.Runtime.TestSilo --redis HOST:PORT --cluster ID --name NAME [--lease-ms N] [--heartbeat-ms N] [--death-ms N]");
    return 2;
}
var clusterId = settings.GetValueOrDefault("cluster", "test");
TimeSpan Milliseconds(string key, int fallback) =>
    TimeSpan.FromMilliseconds(int.Parse(settings.GetValueOrDefault(key, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture));

using var loggerFactory = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning));
using var redis = RedisConnection.Connect(redisConfiguration);
using var oracleConnection = ConnectionMultiplexer.Connect(new ConfigurationOptions { EndPoints = { redisConfiguration }, AbortOnConnectFail = false });
var oracle = new RedisActivationOracle(oracleConnection.GetDatabase(), $"oracle:{clusterId}:");
var cluster = new ClusterOptions
{
    ClusterId = clusterId,
    HeartbeatPeriod = Milliseconds("heartbeat-ms", 500),
    DeathTimeout = Milliseconds("death-ms", 3000),
    CallTimeout = TimeSpan.FromSeconds(20),
};
var silo = new Silo(new SiloOptions { Name = name }, cluster, TestGrains.Registry(oracle),
    ClusterBackend.Redis(redis, clusterId, Milliseconds("lease-ms", 3000)), loggerFactory);
await silo.StartAsync();
Console.WriteLine($"READY {silo.Id} {silo.Address}");
await Task.Run(() => Console.In.ReadToEnd());
await silo.StopAsync();
return 0;
