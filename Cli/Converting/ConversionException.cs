namespace OrleansLlm.Cli.Converting;

/// <summary>A model that cannot be converted: the message says which file and what is wrong.</summary>
internal sealed class ConversionException(string message, Exception? inner = null) : Exception(message, inner);
