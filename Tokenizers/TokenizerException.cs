namespace OrleansLlm.Tokenizers;

/// <summary>A tokenizer file, template or input that this library cannot handle, with the reason.</summary>
public sealed class TokenizerException : Exception
{
    /// <summary>Creates the exception with a message that names the offending component or input.</summary>
    public TokenizerException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception wrapping the underlying cause.</summary>
    public TokenizerException(string message, Exception inner) : base(message, inner)
    {
    }
}
