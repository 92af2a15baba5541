using System.Runtime.InteropServices;
using LLama.Native;

namespace OrleansLlm.PeerBench;

/// <summary>Which llama.cpp LLamaSharp loaded: the library file (its folder names the CPU
/// variant: noavx, avx, avx2, avx512), ggml's version and commit, and llama.cpp's own
/// system-info string (the SIMD features it was compiled with).</summary>
internal sealed record LlamaCppBuild(string LibraryPath, string Variant, string GgmlVersion, string GgmlCommit, string SystemInfo)
{
    /// <summary>Reads the build of the llama.cpp already loaded in this process.</summary>
    public static LlamaCppBuild OfLoadedLibrary()
    {
        var llama = LoadedLibraryPath("libllama.so");
        var ggmlBase = LoadedLibraryPath("libggml-base.so");
        var variant = llama is not null ? Path.GetFileName(Path.GetDirectoryName(llama)) ?? "unknown"
            : NativeApi.GetLoadedNativeLibrary(NativeLibraryName.LLama)?.Metadata?.AvxLevel.ToString() ?? "unknown";
        var systemInfo = Marshal.PtrToStringUTF8(NativeApi.llama_print_system_info())?.Trim() ?? "";
        return new LlamaCppBuild(llama ?? "unknown", variant, GgmlString(ggmlBase, "ggml_version"), GgmlString(ggmlBase, "ggml_commit"), systemInfo);
    }

    /// <summary>The file a shared library was mapped from, from /proc/self/maps (Linux).</summary>
    private static string? LoadedLibraryPath(string fileName)
    {
        if (!File.Exists("/proc/self/maps"))
        {
            return null;
        }
        return File.ReadLines("/proc/self/maps")
            .Select(line => line.IndexOf('/', StringComparison.Ordinal) is var slash and >= 0 ? line[slash..] : null)
            .FirstOrDefault(path => path is not null && Path.GetFileName(path) == fileName);
    }

    /// <summary>A `const char* f(void)` of libggml-base (ggml_version, ggml_commit); "unknown" when absent.</summary>
    private static unsafe string GgmlString(string? library, string function)
    {
        if (library is null || !NativeLibrary.TryLoad(library, out var handle) || !NativeLibrary.TryGetExport(handle, function, out var address))
        {
            return "unknown";
        }
        var call = (delegate* unmanaged<nint>)address;
        return Marshal.PtrToStringUTF8(call()) ?? "unknown";
    }
}
