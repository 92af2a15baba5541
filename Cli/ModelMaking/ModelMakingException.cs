namespace OrleansLlm.Cli.ModelMaking;

/// <summary>A make-model request that cannot be carried out; the message is shown to the user as is.</summary>
internal sealed class ModelMakingException(string message, Exception? inner = null) : Exception(message, inner);
