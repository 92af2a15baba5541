using System.CommandLine;
using OrleansLlm.Native;

namespace OrleansLlm.Cli.Commands;

/// <summary>`--kv-cache-dtype bf16|int8`: the KV cache's element type (docs/QUANTIZATION.md).</summary>
internal static class KvCacheDtypeOption
{
    public static Option<string?> Create() => new("--kv-cache-dtype")
    {
        Description = "KV cache element type: bf16 or int8 (half the bytes, about twice the tokens per budget; CPU only). Default: the model's (bf16)",
        Validators =
        {
            result =>
            {
                if (result.GetValueOrDefault<string?>() is { } v && KvCacheTypes.Parse(v) is null)
                {
                    result.AddError($"--kv-cache-dtype must be bf16 or int8, not '{v}'");
                }
            },
        },
    };

    public static KvCacheType Value(ParseResult r, Option<string?> option) =>
        r.GetValue(option) is { } v ? KvCacheTypes.Parse(v)!.Value : KvCacheType.ModelDefault;
}
