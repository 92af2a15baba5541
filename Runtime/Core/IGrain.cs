namespace OrleansLlm.Runtime;

/// <summary>Marker for grain interfaces.</summary>
public interface IGrain;

/// <summary>A grain addressed by a string key (the only key kind this runtime supports).</summary>
public interface IGrainWithStringKey : IGrain;

/// <summary>Creates references to grains; a reference is cheap and activates nothing by itself.</summary>
public interface IGrainFactory
{
    /// <summary>Returns a reference to the grain of interface <typeparamref name="TGrain"/> with the given key.</summary>
    TGrain GetGrain<TGrain>(string key) where TGrain : IGrainWithStringKey;
}
