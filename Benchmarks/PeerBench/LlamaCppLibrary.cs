using LLama.Exceptions;
using LLama.Native;

namespace OrleansLlm.PeerBench;

/// <summary>Loads LLamaSharp's CPU build of llama.cpp once per process (the variant for this CPU:
/// avx512 / avx2 / avx / noavx), keeping its log for error messages instead of printing it.</summary>
internal static class LlamaCppLibrary
{
    private static readonly Lock Gate = new();
    private static readonly List<string> Log = [];
    private static bool _configured;

    /// <summary>The last lines llama.cpp and LLamaSharp's loader logged (warnings and errors, and
    /// which file was loaded).</summary>
    public static IReadOnlyList<string> RecentLog
    {
        get
        {
            lock (Gate)
            {
                return [.. Log.TakeLast(20)];
            }
        }
    }

    /// <summary>Loads the native library and returns which build it is; throws with the loader's
    /// reason when no variant loads.</summary>
    public static LlamaCppBuild Load()
    {
        lock (Gate)
        {
            if (!_configured)
            {
                NativeLibraryConfig.All.WithCuda(false).WithVulkan(false).WithLogCallback(OnLog);
                _configured = true;
            }
        }
        try
        {
            NativeApi.llama_empty_call();
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or RuntimeError or EntryPointNotFoundException)
        {
            throw new InvalidOperationException(
                $"llama.cpp (LLamaSharp.Backend.Cpu) did not load: {e.Message} {string.Join(" | ", RecentLog)}", e);
        }
        return LlamaCppBuild.OfLoadedLibrary();
    }

    private static void OnLog(LLamaLogLevel level, string message)
    {
        if (level is LLamaLogLevel.Warning or LLamaLogLevel.Error || message.Contains("libllama", StringComparison.Ordinal))
        {
            lock (Gate)
            {
                Log.Add($"{level}: {message.TrimEnd()}");
            }
        }
    }
}
