namespace OrleansLlm.Gateway;

/// <summary>The "Gateway" configuration section.</summary>
public sealed class GatewayOptions
{
    public const string Section = "Gateway";

    /// <summary>API key → tenant. Empty: no authentication, every request is the tenant "".</summary>
    public Dictionary<string, string> ApiKeys { get; set; } = [];

    /// <summary>Requests larger than this get 413.</summary>
    public long MaxRequestBytes { get; set; } = 4 << 20;

    /// <summary>Generations in flight through this gateway; more get 429 with Retry-After.</summary>
    public int MaxConcurrentGenerations { get; set; } = 256;

    /// <summary>Upper bound of n (choices per request).</summary>
    public int MaxChoices { get; set; } = 8;

    /// <summary>Time allowed to unary grain calls (tokenize, sessions, admin).</summary>
    public double GrainCallTimeoutSeconds { get; set; } = 15;
}
