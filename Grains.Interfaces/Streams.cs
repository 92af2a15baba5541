namespace OrleansLlm.Grains;

/// <summary>Names shared by the silos and the gateway.</summary>
public static class PlatformNames
{
    /// <summary>The stream provider that carries engine status changes.</summary>
    public const string StreamProvider = "engine-events";

    /// <summary>Stream namespace and key of the engine status stream (one stream, all engines).</summary>
    public const string EngineStatusNamespace = "engine-status";
    public const string EngineStatusKey = "cluster";

    /// <summary>Grain storage of the session grains and the engine registry.</summary>
    public const string SessionStorage = "sessions";

    /// <summary>Grain directory of the session grains.</summary>
    public const string SessionDirectory = "sessions";

    public const string RegistryKey = "cluster";
}
