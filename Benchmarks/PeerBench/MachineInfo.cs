namespace OrleansLlm.PeerBench;

/// <summary>The CPU the figures were measured on, from /proc/cpuinfo.</summary>
internal static class MachineInfo
{
    /// <summary>The SIMD features that decide which kernels either engine can run.</summary>
    private static readonly string[] Interesting = ["avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512_bf16",
        "avx512_vnni", "avx512_fp16", "amx_bf16", "amx_int8", "amx_tile", "avx_vnni"];

    public static string CpuModel => CpuInfoValue("model name") ?? "unknown";

    public static IReadOnlyList<string> CpuFeatures
    {
        get
        {
            var flags = (CpuInfoValue("flags") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
            return Interesting.Where(flags.Contains).ToArray();
        }
    }

    private static string? CpuInfoValue(string key)
    {
        if (!File.Exists("/proc/cpuinfo"))
        {
            return null;
        }
        return File.ReadLines("/proc/cpuinfo")
            .Where(line => line.StartsWith(key, StringComparison.Ordinal) && line.Contains(':', StringComparison.Ordinal))
            .Select(line => line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim())
            .FirstOrDefault();
    }
}
