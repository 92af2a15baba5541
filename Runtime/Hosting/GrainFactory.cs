namespace OrleansLlm.Runtime;

internal sealed class GrainFactory(GrainTypeCatalog types, CallPipeline pipeline) : IGrainFactory
{
    public TGrain GetGrain<TGrain>(string key) where TGrain : IGrainWithStringKey
    {
        if (string.IsNullOrEmpty(key))
        {
            throw new ArgumentException("a grain key must be a non-empty string", nameof(key));
        }
        var info = types.Get(typeof(TGrain));
        return (TGrain)info.ProxyFactory(new GrainReference(new GrainId(info.TypeName, key), info, pipeline));
    }
}
