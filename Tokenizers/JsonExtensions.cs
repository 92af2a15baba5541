using System.Text.Json;

namespace OrleansLlm.Tokenizers;

/// <summary>Small readers for optional properties of tokenizer.json components.</summary>
internal static class JsonExtensions
{
    public static string Type(this JsonElement component, string kind)
    {
        if (component.ValueKind != JsonValueKind.Object
            || !component.TryGetProperty("type", out var type)
            || type.ValueKind != JsonValueKind.String)
        {
            throw new TokenizerException($"{kind} without a \"type\" in tokenizer.json");
        }
        return type.GetString()!;
    }

    public static bool IsNullOrMissing(this JsonElement element) =>
        element.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined;

    public static JsonElement Property(this JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) ? value : default;

    public static string? OptionalString(this JsonElement element, string name)
    {
        var value = element.Property(name);
        return value.ValueKind == JsonValueKind.String ? value.GetString() : null;
    }

    public static bool OptionalBool(this JsonElement element, string name, bool fallback)
    {
        var value = element.Property(name);
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => fallback,
        };
    }

    public static int OptionalInt(this JsonElement element, string name, int fallback)
    {
        var value = element.Property(name);
        return value.ValueKind == JsonValueKind.Number ? value.GetInt32() : fallback;
    }

    public static string RequiredString(this JsonElement element, string name, string context) =>
        element.OptionalString(name) ?? throw new TokenizerException($"{context} lacks the string property \"{name}\"");

    /// <summary>The "pattern" of Split/Replace components: <c>{"String": ...}</c> or <c>{"Regex": ...}</c>.</summary>
    public static TextPattern Pattern(this JsonElement element, string context)
    {
        var pattern = element.Property("pattern");
        if (pattern.OptionalString("String") is { } literal)
        {
            return new TextPattern(literal, IsRegex: false);
        }
        if (pattern.OptionalString("Regex") is { } regex)
        {
            return new TextPattern(regex, IsRegex: true);
        }
        throw new TokenizerException($"{context} has no String or Regex pattern");
    }
}

/// <summary>A literal string or an Oniguruma regex, as tokenizer.json writes patterns.</summary>
internal readonly record struct TextPattern(string Value, bool IsRegex);
