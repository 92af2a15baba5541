using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace OrleansLlm.Gateway;

/// <summary>
/// Optional API keys (<c>Authorization: Bearer KEY</c>), compared in constant time, each mapping to
/// a tenant. The tenant salts the prefix hashes, so tenants never share cached blocks; clients
/// cannot choose it. Health and metrics stay open.
/// </summary>
public sealed class ApiKeyAuthentication(RequestDelegate next, IOptions<GatewayOptions> options)
{
    private const string TenantItem = "orleansllm.tenant";

    public static string TenantOf(HttpContext http) => http.Items[TenantItem] as string ?? "";

    public async Task InvokeAsync(HttpContext http)
    {
        var keys = options.Value.ApiKeys;
        var path = http.Request.Path;
        var open = path.StartsWithSegments("/health") || path.StartsWithSegments("/alive") || path.StartsWithSegments("/ready")
            || path.StartsWithSegments("/metrics");
        if (keys.Count == 0 || open)
        {
            await next(http);
            return;
        }
        var header = http.Request.Headers.Authorization.ToString();
        var presented = header.StartsWith("Bearer ", StringComparison.Ordinal) ? Encoding.UTF8.GetBytes(header[7..].Trim()) : [];
        string? tenant = null;
        foreach (var (key, keyTenant) in keys)
        {
            // every key is compared, so the time taken says nothing about which one came close
            if (CryptographicOperations.FixedTimeEquals(SHA256.HashData(presented), SHA256.HashData(Encoding.UTF8.GetBytes(key))))
            {
                tenant = keyTenant;
            }
        }
        if (tenant is null)
        {
            await new OpenAiError(401, "Incorrect or missing API key (Authorization: Bearer <key>)", "invalid_request_error", null, "invalid_api_key")
                .ToResult(http).ExecuteAsync(http);
            return;
        }
        http.Items[TenantItem] = tenant;
        await next(http);
    }
}
