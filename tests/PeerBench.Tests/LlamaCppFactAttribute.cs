namespace OrleansLlm.PeerBench.Tests;

/// <summary>A fact that needs llama.cpp: skipped, with the loader's reason, only when LLamaSharp's
/// native library cannot load on this machine (no variant for the CPU or OS).</summary>
public sealed class LlamaCppFactAttribute : FactAttribute
{
    private static readonly Lazy<string?> WhyNot = new(() =>
    {
        try
        {
            LlamaCppLibrary.Load();
            return null;
        }
        catch (InvalidOperationException e)
        {
            return e.Message;
        }
    });

    public LlamaCppFactAttribute()
    {
        if (WhyNot.Value is { } reason)
        {
            Skip = reason;
        }
    }
}

/// <summary>The same for a theory.</summary>
public sealed class LlamaCppTheoryAttribute : TheoryAttribute
{
    public LlamaCppTheoryAttribute()
    {
        var fact = new LlamaCppFactAttribute();
        if (fact.Skip is { } reason)
        {
            Skip = reason;
        }
    }
}
