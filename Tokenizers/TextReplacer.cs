using System.Text.Json;
using System.Text.RegularExpressions;

namespace OrleansLlm.Tokenizers;

/// <summary>Replaces every occurrence of a Replace component's pattern with its content.</summary>
internal sealed class TextReplacer
{
    private readonly string? _literal;
    private readonly Regex? _regex;
    private readonly string _content;

    private TextReplacer(string? literal, Regex? regex, string content)
    {
        _literal = literal;
        _regex = regex;
        _content = content;
    }

    public string Content => _content;

    /// <summary>The literal pattern, or null when the pattern is a regex.</summary>
    public string? Literal => _literal;

    public static TextReplacer Create(JsonElement config, string context)
    {
        var pattern = config.Pattern(context);
        string content = config.OptionalString("content") ?? "";
        return pattern.IsRegex
            ? new TextReplacer(null, OnigurumaRegex.Compile(pattern.Value, context), content)
            : new TextReplacer(pattern.Value, null, content);
    }

    public string Replace(string text)
    {
        if (_literal is not null)
        {
            return _literal.Length == 0 ? text : text.Replace(_literal, _content, StringComparison.Ordinal);
        }
        return _regex!.Replace(text, _content.Replace("$", "$$", StringComparison.Ordinal));
    }
}
