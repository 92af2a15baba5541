using System.Collections.Frozen;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace OrleansLlm.Runtime;

/// <summary>
/// What a silo or client knows about grain types: interfaces with their proxy factories, grain
/// classes with their factories, and the source-generated JSON contexts of their payloads.
/// </summary>
/// <remarks>
/// Proxies are small hand-written classes over <see cref="GrainReference"/> (one line per method);
/// the runtime builds, once per method, the JSON metadata and a compiled invoker delegate.
/// </remarks>
public sealed class GrainRegistry
{
    private readonly List<IJsonTypeInfoResolver> _resolvers = [RuntimeJsonContext.Default];
    private readonly Dictionary<Type, (Func<GrainReference, object> Proxy, IPlacementDirector? Placement)> _interfaces = [];
    private readonly Dictionary<Type, (Type GrainClass, Func<IGrainContext, Grain> Factory)> _grains = [];
    private GrainTypeCatalog? _built;

    /// <summary>Registers a source-generated context for the payload types of grain methods and states.</summary>
    public GrainRegistry AddJsonContext(JsonSerializerContext context)
    {
        ThrowIfBuilt();
        _resolvers.Add(context);
        return this;
    }

    /// <summary>Registers a grain interface and its proxy; <paramref name="placement"/> overrides default placement.</summary>
    public GrainRegistry AddInterface<TInterface>(Func<GrainReference, TInterface> proxyFactory, IPlacementDirector? placement = null)
        where TInterface : class, IGrainWithStringKey
    {
        ThrowIfBuilt();
        if (!typeof(TInterface).IsInterface)
        {
            throw new ArgumentException($"{typeof(TInterface).Name} is not an interface");
        }
        _interfaces[typeof(TInterface)] = (r => proxyFactory(r), placement);
        return this;
    }

    /// <summary>Registers the grain class implementing <typeparamref name="TInterface"/> (the interface must be registered too).</summary>
    public GrainRegistry AddGrain<TInterface, TGrain>(Func<IGrainContext, TGrain> factory)
        where TInterface : class, IGrainWithStringKey
        where TGrain : Grain, TInterface
    {
        ThrowIfBuilt();
        _grains[typeof(TInterface)] = (typeof(TGrain), factory);
        return this;
    }

    internal GrainTypeCatalog Build()
    {
        lock (_interfaces)
        {
            return _built ??= BuildCore();
        }
    }

    private GrainTypeCatalog BuildCore()
    {
        var json = new JsonSerializerOptions { TypeInfoResolver = JsonTypeInfoResolver.Combine([.. _resolvers]) };
        json.MakeReadOnly();
        var interfaces = new Dictionary<string, GrainInterfaceInfo>();
        var byType = new Dictionary<Type, GrainInterfaceInfo>();
        foreach (var (type, (proxy, placement)) in _interfaces)
        {
            var methods = new Dictionary<string, GrainMethod>();
            foreach (var method in type.GetMethods().Concat(type.GetInterfaces().SelectMany(i => i.GetMethods())))
            {
                if (methods.ContainsKey(method.Name))
                {
                    throw new ArgumentException($"grain interface {type.Name} overloads {method.Name}; grain methods are addressed by name");
                }
                methods[method.Name] = GrainMethod.Create(type, method, json);
            }
            var grainClass = _grains.TryGetValue(type, out var g) ? g : default;
            var info = new GrainInterfaceInfo
            {
                InterfaceType = type,
                TypeName = type.FullName ?? type.Name,
                Methods = methods.ToFrozenDictionary(StringComparer.Ordinal),
                ProxyFactory = proxy,
                Pinned = type.GetCustomAttribute<PinnedPlacementAttribute>() is not null,
                Placement = placement,
                GrainFactory = grainClass.Factory,
                Reentrant = grainClass.GrainClass?.GetCustomAttribute<ReentrantAttribute>() is not null,
            };
            interfaces[info.TypeName] = info;
            byType[type] = info;
        }
        foreach (var type in _grains.Keys.Where(t => !_interfaces.ContainsKey(t)))
        {
            throw new ArgumentException($"grain class for {type.Name} is registered but the interface is not (call AddInterface)");
        }
        return new GrainTypeCatalog(interfaces.ToFrozenDictionary(StringComparer.Ordinal), byType.ToFrozenDictionary(), json);
    }

    private void ThrowIfBuilt()
    {
        if (_built is not null)
        {
            throw new InvalidOperationException("the registry is in use by a silo or client and can no longer change");
        }
    }
}

internal sealed class GrainInterfaceInfo
{
    public required Type InterfaceType { get; init; }

    public required string TypeName { get; init; }

    public required FrozenDictionary<string, GrainMethod> Methods { get; init; }

    public required Func<GrainReference, object> ProxyFactory { get; init; }

    public required bool Pinned { get; init; }

    public required IPlacementDirector? Placement { get; init; }

    /// <summary>Null on processes that only call this interface.</summary>
    public required Func<IGrainContext, Grain>? GrainFactory { get; init; }

    public required bool Reentrant { get; init; }

    public GrainMethod GetMethod(string name) =>
        Methods.TryGetValue(name, out var method) ? method : throw new ArgumentException($"{InterfaceType.Name} has no grain method {name}");
}

internal sealed class GrainTypeCatalog(
    FrozenDictionary<string, GrainInterfaceInfo> byName,
    FrozenDictionary<Type, GrainInterfaceInfo> byType,
    JsonSerializerOptions json)
{
    public JsonSerializerOptions Json { get; } = json;

    public GrainInterfaceInfo Get(Type interfaceType) =>
        byType.TryGetValue(interfaceType, out var info) ? info : throw new ArgumentException($"grain interface {interfaceType.Name} is not registered");

    public GrainInterfaceInfo? Find(string typeName) => byName.GetValueOrDefault(typeName);

    public JsonTypeInfo<T> GetJsonType<T>()
    {
        try
        {
            return (JsonTypeInfo<T>)Json.GetTypeInfo(typeof(T));
        }
        catch (NotSupportedException e)
        {
            throw new ArgumentException($"{typeof(T).FullName} is not covered by a registered JsonSerializerContext", e);
        }
    }
}
