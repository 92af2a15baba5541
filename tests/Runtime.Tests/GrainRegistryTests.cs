using OrleansLlm.Runtime.TestSilo;

namespace OrleansLlm.Runtime.Tests;

public sealed class GrainRegistryTests
{
    public interface IOverloaded : IGrainWithStringKey
    {
        Task<int> M(int x);

        Task<int> M(string x);
    }

    public interface ISyncResult : IGrainWithStringKey
    {
        int M();
    }

    public sealed record Unregistered(int X);

    public interface IUnknownPayload : IGrainWithStringKey
    {
        Task M(Unregistered payload);
    }

    private static string BuildError<T>() where T : class, IGrainWithStringKey
    {
        var registry = new GrainRegistry().AddInterface<T>(_ => null!);
        var silo = Assert.Throws<ArgumentException>(() => Silo.CreateEmbedded(registry));
        return silo.Message;
    }

    [Fact]
    public void Overloads_are_rejected() => Assert.Contains("overloads M", BuildError<IOverloaded>());

    [Fact]
    public void Non_task_methods_are_rejected() => Assert.Contains("must return Task", BuildError<ISyncResult>());

    [Fact]
    public void Payloads_without_json_metadata_are_rejected_with_the_fix() => Assert.Contains("JsonSerializable", BuildError<IUnknownPayload>());

    [Fact]
    public void A_grain_class_without_its_interface_is_rejected()
    {
        var registry = new GrainRegistry().AddGrain<IPinnedGrain, HostSiloGrain>(_ => new HostSiloGrain());
        Assert.Contains("AddInterface", Assert.Throws<ArgumentException>(() => Silo.CreateEmbedded(registry)).Message);
    }

    [Fact]
    public async Task A_registry_in_use_cannot_change()
    {
        var registry = TestGrains.Registry(new InMemoryActivationOracle());
        await using var silo = Silo.CreateEmbedded(registry);
        Assert.Throws<InvalidOperationException>(() => registry.AddJsonContext(RuntimeJsonContext.Default));
    }
}
