using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace OrleansLlm.Tokenizers.ChatTemplates;

/// <summary>A runtime value of the template interpreter. Semantics follow @huggingface/jinja.</summary>
internal abstract record JinjaValue
{
    public abstract bool IsTruthy { get; }

    /// <summary>What <c>{{ value }}</c> prints.</summary>
    public abstract override string ToString();

    /// <summary>JavaScript's <c>value.toString()</c> of the underlying value (used by <c>+</c> and <c>~</c>).</summary>
    public virtual string ToConcatString() => ToString();

    public static JinjaValue FromJson(JsonNode? node)
    {
        switch (node)
        {
            case null:
                return JinjaNull.Instance;
            case JsonArray array:
                return new JinjaArray(array.Select(FromJson).ToList());
            case JsonObject obj:
                var map = new JinjaObject();
                foreach (var (key, value) in obj)
                {
                    map.Set(key, FromJson(value));
                }
                return map;
            case JsonValue value:
                return value.GetValueKind() switch
                {
                    JsonValueKind.String => new JinjaString(value.GetValue<string>()),
                    JsonValueKind.True => JinjaBool.True,
                    JsonValueKind.False => JinjaBool.False,
                    JsonValueKind.Number => Number(value.TryGetValue(out double number)
                        ? number
                        : double.Parse(value.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture)),
                    _ => JinjaNull.Instance,
                };
            default:
                return JinjaNull.Instance;
        }
    }

    /// <summary>A JSON number: an integer when it has no fractional part (JavaScript cannot tell 1 from 1.0).</summary>
    public static JinjaNumber Number(double value) => new(value, IsInteger: Math.Floor(value) == value && !double.IsInfinity(value));
}

internal sealed record JinjaUndefined : JinjaValue
{
    public static readonly JinjaUndefined Instance = new();

    public override bool IsTruthy => false;

    public override string ToString() => "undefined";
}

internal sealed record JinjaNull : JinjaValue
{
    public static readonly JinjaNull Instance = new();

    public override bool IsTruthy => false;

    public override string ToString() => "null";
}

internal sealed record JinjaBool(bool Value) : JinjaValue
{
    public static readonly JinjaBool True = new(true);
    public static readonly JinjaBool False = new(false);

    public static JinjaBool Of(bool value) => value ? True : False;

    public override bool IsTruthy => Value;

    public override string ToString() => Value ? "true" : "false";
}

internal sealed record JinjaNumber(double Value, bool IsInteger) : JinjaValue
{
    public override bool IsTruthy => Value != 0 && !double.IsNaN(Value);

    public override string ToString()
    {
        if (!IsInteger && Math.Floor(Value) == Value && !double.IsInfinity(Value))
        {
            return Value == 0 && double.IsNegative(Value) ? "-0.0" : Value.ToString("F1", CultureInfo.InvariantCulture);
        }
        return JsNumber(Value);
    }

    public override string ToConcatString() => JsNumber(Value);

    /// <summary>JavaScript's Number.prototype.toString for the values templates meet.</summary>
    public static string JsNumber(double value)
    {
        if (double.IsNaN(value))
        {
            return "NaN";
        }
        if (double.IsInfinity(value))
        {
            return value > 0 ? "Infinity" : "-Infinity";
        }
        if (Math.Floor(value) == value && Math.Abs(value) < 1e21)
        {
            return value.ToString("F0", CultureInfo.InvariantCulture);
        }
        return value.ToString("R", CultureInfo.InvariantCulture);
    }
}

internal sealed record JinjaString(string Value) : JinjaValue
{
    public override bool IsTruthy => Value.Length > 0;

    public override string ToString() => Value;
}

internal sealed record JinjaArray(List<JinjaValue> Items, bool IsTuple = false) : JinjaValue
{
    public override bool IsTruthy => Items.Count > 0;

    public override string ToString() => JinjaJson.Serialize(this, new JinjaJson.Options(), convertUndefinedToNull: false);

    // JavaScript Array.prototype.toString: the elements' toString joined by commas.
    public override string ToConcatString() => string.Join(",", Items.Select(i => i is JinjaNull or JinjaUndefined ? "" : i.ToString()));

    public bool Equals(JinjaArray? other) => ReferenceEquals(this, other);

    public override int GetHashCode() => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(this);
}

/// <summary>An insertion-ordered mapping (a message, a tool, a namespace, keyword arguments).</summary>
internal sealed record JinjaObject : JinjaValue
{
    private readonly List<string> _keys = [];
    private readonly Dictionary<string, JinjaValue> _values = new(StringComparer.Ordinal);

    public JinjaObject(bool isNamespace = false, bool isKeywordArguments = false)
    {
        IsNamespace = isNamespace;
        IsKeywordArguments = isKeywordArguments;
    }

    public bool IsNamespace { get; }

    public bool IsKeywordArguments { get; }

    public int Count => _keys.Count;

    public IEnumerable<string> Keys => _keys;

    public IEnumerable<KeyValuePair<string, JinjaValue>> Entries => _keys.Select(k => new KeyValuePair<string, JinjaValue>(k, _values[k]));

    // A namespace is a JavaScript Map wrapped as a plain runtime value: always truthy.
    public override bool IsTruthy => IsNamespace || _keys.Count > 0;

    public bool TryGet(string key, out JinjaValue value) => _values.TryGetValue(key, out value!);

    public void Set(string key, JinjaValue value)
    {
        if (!_values.ContainsKey(key))
        {
            _keys.Add(key);
        }
        _values[key] = value;
    }

    public void Remove(string key)
    {
        if (_values.Remove(key))
        {
            _keys.Remove(key);
        }
    }

    public override string ToString() => JinjaJson.Serialize(this, new JinjaJson.Options(), convertUndefinedToNull: false);

    public override string ToConcatString() => "[object Map]";

    public bool Equals(JinjaObject? other) => ReferenceEquals(this, other);

    public override int GetHashCode() => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(this);
}

/// <summary>A callable: a global function, a macro or a bound string/dict method.</summary>
internal sealed record JinjaFunction(string Name, Func<List<JinjaValue>, JinjaEnvironment, JinjaValue> Invoke) : JinjaValue
{
    public override bool IsTruthy => true;

    public override string ToString() => $"function {Name}";

    public bool Equals(JinjaFunction? other) => ReferenceEquals(this, other);

    public override int GetHashCode() => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(this);
}

/// <summary>The <c>tojson</c> serializer of the reference: Python's json.dumps layout (", " and ": ").</summary>
internal static class JinjaJson
{
    internal sealed record Options(int? Indent = null, bool EnsureAscii = false, bool SortKeys = false, string? ItemSeparator = null, string? KeySeparator = null);

    public static string Serialize(JinjaValue value, Options options, bool convertUndefinedToNull = true)
    {
        var sb = new StringBuilder();
        Write(sb, value, options, 0, convertUndefinedToNull);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, JinjaValue value, Options options, int depth, bool convertUndefinedToNull)
    {
        string itemSeparator = options.ItemSeparator ?? (options.Indent is > 0 ? "," : ", ");
        string keySeparator = options.KeySeparator ?? ": ";
        switch (value)
        {
            case JinjaNull:
                sb.Append("null");
                return;
            case JinjaUndefined:
                sb.Append(convertUndefinedToNull ? "null" : "undefined");
                return;
            case JinjaBool b:
                sb.Append(b.Value ? "true" : "false");
                return;
            case JinjaNumber n:
                sb.Append(double.IsFinite(n.Value) ? JinjaNumber.JsNumber(n.Value) : "null");
                return;
            case JinjaString s:
                sb.Append(QuoteString(s.Value, options.EnsureAscii));
                return;
            case JinjaArray array:
            {
                string indent = options.Indent is > 0 ? new string(' ', options.Indent.Value) : "";
                string basePadding = "\n" + string.Concat(Enumerable.Repeat(indent, depth));
                string childPadding = basePadding + indent;
                bool pretty = options.Indent is > 0 && array.Items.Count > 0;
                sb.Append('[');
                for (int i = 0; i < array.Items.Count; i++)
                {
                    if (i > 0)
                    {
                        sb.Append(itemSeparator);
                    }
                    if (pretty)
                    {
                        sb.Append(childPadding);
                    }
                    Write(sb, array.Items[i], options, depth + 1, convertUndefinedToNull);
                }
                if (pretty)
                {
                    sb.Append(basePadding);
                }
                sb.Append(']');
                return;
            }
            case JinjaObject obj:
            {
                string indent = options.Indent is > 0 ? new string(' ', options.Indent.Value) : "";
                string basePadding = "\n" + string.Concat(Enumerable.Repeat(indent, depth));
                string childPadding = basePadding + indent;
                bool pretty = options.Indent is > 0 && obj.Count > 0;
                var entries = obj.Entries.ToList();
                if (options.SortKeys)
                {
                    entries.Sort((a, b) => string.Compare(a.Key, b.Key, StringComparison.InvariantCulture));
                }
                sb.Append('{');
                for (int i = 0; i < entries.Count; i++)
                {
                    if (i > 0)
                    {
                        sb.Append(itemSeparator);
                    }
                    if (pretty)
                    {
                        sb.Append(childPadding);
                    }
                    sb.Append(QuoteString(entries[i].Key, options.EnsureAscii)).Append(keySeparator);
                    Write(sb, entries[i].Value, options, depth + 1, convertUndefinedToNull);
                }
                if (pretty)
                {
                    sb.Append(basePadding);
                }
                sb.Append('}');
                return;
            }
            default:
                throw new TokenizerException($"Chat template error: cannot convert {value} to JSON");
        }
    }

    /// <summary>JSON.stringify of a string: escapes quotes, backslashes and control characters only.</summary>
    public static string QuoteString(string value, bool ensureAscii)
    {
        var sb = new StringBuilder(value.Length + 2);
        sb.Append('"');
        foreach (char c in value)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c < 0x20 || (ensureAscii && c >= 0x7f))
                    {
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(c);
                    }
                    break;
            }
        }
        sb.Append('"');
        return sb.ToString();
    }
}
