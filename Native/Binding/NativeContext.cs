namespace OrleansLlm.Native;

/// <summary>One sequence and its KV cache. Not thread-safe: one call at a time.</summary>
public sealed class NativeContext : IDisposable
{
    private readonly NativeModel _model;
    private readonly SafeContextHandle _handle;

    internal NativeContext(NativeModel model, SafeContextHandle handle)
    {
        _model = model;
        _handle = handle;
    }

    /// <summary>Tokens the context holds.</summary>
    public int TokenCount => NativeMethods.ContextTokenCount(_handle);

    /// <summary>Appends <paramref name="tokens"/> and returns the last token's logits [vocab].</summary>
    public float[] Eval(ReadOnlySpan<int> tokens)
    {
        var logits = new float[_model.Description.VocabSize];
        Eval(tokens, allLogits: false, logits);
        return logits;
    }

    /// <summary>
    /// Appends <paramref name="tokens"/> and writes the last token's logits into
    /// <paramref name="logits"/> (at least vocab long): a decode loop that reuses one buffer
    /// allocates nothing per token (the benchmarks' loops; a 128k vocabulary's logits are a 0.5 MB
    /// large-object-heap array each).
    /// </summary>
    public void Eval(ReadOnlySpan<int> tokens, Span<float> logits)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(logits.Length, _model.Description.VocabSize, nameof(logits));
        Eval(tokens, allLogits: false, logits);
    }

    /// <summary>Appends <paramref name="tokens"/> and returns every position's logits [tokens, vocab].</summary>
    public float[] EvalAll(ReadOnlySpan<int> tokens)
    {
        var logits = new float[(long)tokens.Length * _model.Description.VocabSize];
        Eval(tokens, allLogits: true, logits);
        return logits;
    }

    public void Reset() => NativeMethods.Check(NativeMethods.ContextReset(_handle));

    public void Dispose() => _handle.Dispose();

    private unsafe void Eval(ReadOnlySpan<int> tokens, bool allLogits, Span<float> logits)
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        fixed (int* t = tokens)
        fixed (float* l = logits)
        {
            NativeMethods.Check(NativeMethods.ContextEval(_handle, t, tokens.Length, allLogits ? 1 : 0, l));
        }
    }
}
