using Orleans.TestingHost;
using OrleansLlm.Cluster.TestSilo;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace OrleansLlm.Cluster.Tests;

/// <summary>Orleans' TestCluster (two in-process silos) on a real Redis: one activation per key under concurrent calls.</summary>
[Collection(ClusterCollection.Name)]
public sealed class SingleActivationTests(RedisServer redis, ITestOutputHelper output)
{
    [Fact]
    public async Task A_thousand_concurrent_calls_on_ten_grains_see_one_activation_each_and_lose_no_increment()
    {
        var builder = new TestClusterBuilder(2);
        builder.Properties[TestClusterSiloConfigurator.RedisProperty] = redis.ConnectionString;
        builder.AddSiloBuilderConfigurator<TestClusterSiloConfigurator>();
        var cluster = builder.Build();
        await cluster.DeployAsync();
        try
        {
            var run = Guid.NewGuid().ToString("N")[..8];
            var keys = Enumerable.Range(0, 10).Select(i => $"single-{run}-{i}").ToArray();
            var calls = Enumerable.Range(0, 1000).Select(i => keys[(i * 7) % keys.Length]).ToArray();
            var results = await Task.WhenAll(calls.Select(key => cluster.Client.GetGrain<ICounterGrain>(key).Increment()));

            var db = redis.Connection.GetDatabase();
            foreach (var key in keys)
            {
                var expected = calls.Count(k => k == key);
                var view = await cluster.Client.GetGrain<ICounterGrain>(key).Get();
                var activations = (long)await db.StringGetAsync(ActivationOracle.ActivationsKey(key));
                var duplicates = await db.ListLengthAsync(ActivationOracle.DuplicatesKey(key));
                output.WriteLine($"{key}: {view.Value} on {view.Silo}, {activations} activation(s)");
                Assert.Equal(expected, view.Value);
                Assert.Equal(1, activations);
                Assert.Equal(0, duplicates);
            }
            // each key's acknowledged values are exactly 1..n: no two calls saw the same value
            foreach (var group in calls.Zip(results).GroupBy(p => p.First))
            {
                Assert.Equal(Enumerable.Range(1, group.Count()).Select(v => (long)v), group.Select(p => p.Second).Order());
            }
        }
        finally
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }
    }
}
