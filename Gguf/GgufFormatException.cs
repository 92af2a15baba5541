namespace OrleansLlm.Gguf;

/// <summary>A GGUF file that cannot be read (or a model that cannot be written): the message names the file and what is wrong.</summary>
public sealed class GgufFormatException : Exception
{
    public GgufFormatException(string message)
        : base(message)
    {
    }

    public GgufFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
