using System.CommandLine;

namespace OrleansLlm.AppHost.Commands;

/// <summary>`tokenize`, `detokenize`, `chat-template` (filled in by the tokenizer work).</summary>
internal static class TokenizerCommands
{
    public static IEnumerable<Command> Create() => [];
}
