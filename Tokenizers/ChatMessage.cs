using System.Text.Json.Nodes;

namespace OrleansLlm.Tokenizers;

/// <summary>One chat message with plain text content.</summary>
/// <param name="Role">"system", "user", "assistant" or "tool".</param>
/// <param name="Content">The message text.</param>
public sealed record ChatMessage(string Role, string Content);

/// <summary>Optional inputs of a chat template beyond the messages.</summary>
public sealed record ChatTemplateOptions
{
    /// <summary>Tool definitions (OpenAI "tools" JSON), for templates that use <c>tools</c>.</summary>
    public JsonArray? Tools { get; init; }

    /// <summary>Retrieval documents, for templates that use <c>documents</c>.</summary>
    public JsonArray? Documents { get; init; }

    /// <summary>Name of the template when tokenizer_config.json holds a named list (default "default").</summary>
    public string? TemplateName { get; init; }

    /// <summary>More template variables, e.g. <c>enable_thinking</c>.</summary>
    public IReadOnlyDictionary<string, JsonNode?>? Variables { get; init; }
}
