using System.Text.Json.Nodes;

using OrleansLlm.Tokenizers.ChatTemplates;

namespace OrleansLlm.Tokenizers;

/// <summary>
/// A parsed chat template (a Jinja subset: for/if/elif/else, set, namespace, macros, filters,
/// string and dict methods, tests, raise_exception, loop.*). Parsing and rendering errors are
/// <see cref="TokenizerException"/>s naming the line and column.
/// </summary>
public sealed class ChatTemplate
{
    /// <summary>The ChatML template used when a tokenizer has none.</summary>
    public const string ChatMl =
        "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    private readonly string _source;
    private readonly List<Node> _program;

    private ChatTemplate(string source, List<Node> program)
    {
        _source = source;
        _program = program;
    }

    /// <summary>Parses <paramref name="template"/>; throws <see cref="TokenizerException"/> on constructs it does not support.</summary>
    public static ChatTemplate Parse(string template)
    {
        ArgumentNullException.ThrowIfNull(template);
        string source = JinjaLexer.Preprocess(template);
        var tokens = JinjaLexer.Tokenize(source);
        return new ChatTemplate(source, JinjaParser.Parse(tokens, source));
    }

    /// <summary>Renders with the given variables (JSON values; null is <c>none</c>).</summary>
    public string Render(IReadOnlyDictionary<string, JsonNode?> variables)
    {
        ArgumentNullException.ThrowIfNull(variables);
        var globals = new JinjaEnvironment(null);
        JinjaInterpreter.AddGlobals(globals);
        foreach (var (name, value) in variables)
        {
            globals.Set(name, JinjaValue.FromJson(value));
        }
        return new JinjaInterpreter(_source).Render(_program, globals);
    }
}
