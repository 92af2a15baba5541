using LLama.Exceptions;
using LLama.Native;

namespace OrleansLlm.Quant.Tests;

/// <summary>A fact that needs llama.cpp (LLamaSharp's CPU backend): skipped, with the loader's
/// message, only when its native library cannot load on this machine.</summary>
public sealed class LlamaCppFactAttribute : FactAttribute
{
    private static readonly Lazy<string?> LoadFailure = new(() =>
    {
        try
        {
            NativeApi.llama_empty_call();
            return null;
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or RuntimeError or EntryPointNotFoundException)
        {
            return $"llama.cpp (LLamaSharp.Backend.Cpu) cannot load here: {e.GetBaseException().Message}";
        }
    });

    public LlamaCppFactAttribute()
    {
        if (LoadFailure.Value is { } reason)
        {
            Skip = reason;
        }
    }
}
