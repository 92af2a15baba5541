using System.Globalization;
using System.Text;

namespace OrleansLlm.Tokenizers.ChatTemplates;

/// <summary>Filters, string and dict methods, and global functions.</summary>
internal sealed partial class JinjaInterpreter
{
    public static void AddGlobals(JinjaEnvironment env)
    {
        env.Set("true", JinjaBool.True);
        env.Set("false", JinjaBool.False);
        env.Set("none", JinjaNull.Instance);
        env.Set("True", JinjaBool.True);
        env.Set("False", JinjaBool.False);
        env.Set("None", JinjaNull.Instance);
        env.Set("raise_exception", new JinjaFunction("raise_exception", (args, _) =>
            throw new JinjaRuntimeException(string.Join(",", args.Select(a => a.ToConcatString())))));
        env.Set("namespace", new JinjaFunction("namespace", (args, _) =>
        {
            var ns = new JinjaObject(isNamespace: true);
            foreach (var arg in args)
            {
                if (arg is JinjaObject obj)
                {
                    foreach (var (key, value) in obj.Entries)
                    {
                        ns.Set(key, value);
                    }
                }
                else
                {
                    throw new JinjaRuntimeException("namespace() takes keyword arguments or a dict");
                }
            }
            return ns;
        }));
        env.Set("range", new JinjaFunction("range", (args, _) =>
        {
            var numbers = args.Select(a => a is JinjaNumber { IsInteger: true } n ? (long)n.Value : throw new JinjaRuntimeException("range() takes integers")).ToList();
            var (start, stop, step) = numbers.Count switch
            {
                1 => (0L, numbers[0], 1L),
                2 => (numbers[0], numbers[1], 1L),
                3 => (numbers[0], numbers[1], numbers[2]),
                _ => throw new JinjaRuntimeException("range() takes 1 to 3 arguments"),
            };
            if (step == 0)
            {
                throw new JinjaRuntimeException("range() step must not be zero");
            }
            long count = step > 0 ? (stop - start + step - 1) / step : (start - stop - step - 1) / -step;
            if (count > 1_000_000)
            {
                throw new JinjaRuntimeException($"range() of {count} items is larger than the 1,000,000 allowed");
            }
            var items = new List<JinjaValue>();
            for (long i = start; step > 0 ? i < stop : i > stop; i += step)
            {
                items.Add(JinjaValue.Number(i));
            }
            return new JinjaArray(items);
        }));
        env.Set("strftime_now", new JinjaFunction("strftime_now", (args, _) =>
        {
            string format = args.Count > 0 && args[0] is JinjaString f ? f.Value : throw new JinjaRuntimeException("strftime_now() takes a format string");
            var now = DateTime.Now;
            var sb = new StringBuilder();
            for (int i = 0; i < format.Length; i++)
            {
                if (format[i] != '%' || i + 1 >= format.Length)
                {
                    sb.Append(format[i]);
                    continue;
                }
                char code = format[++i];
                sb.Append(code switch
                {
                    'Y' => now.Year.ToString(CultureInfo.InvariantCulture),
                    'm' => now.Month.ToString("00", CultureInfo.InvariantCulture),
                    'd' => now.Day.ToString("00", CultureInfo.InvariantCulture),
                    'b' => now.ToString("MMM", CultureInfo.InvariantCulture),
                    'B' => now.ToString("MMMM", CultureInfo.InvariantCulture),
                    'H' => now.Hour.ToString("00", CultureInfo.InvariantCulture),
                    'M' => now.Minute.ToString("00", CultureInfo.InvariantCulture),
                    '%' => "%",
                    _ => "%" + code,
                });
            }
            return new JinjaString(sb.ToString());
        }));
    }

    private JinjaValue ApplyFilter(JinjaValue operand, Node filterNode, JinjaEnvironment env)
    {
        string name;
        List<JinjaValue> args = [];
        JinjaObject keywords = new(isKeywordArguments: true);
        switch (filterNode)
        {
            case IdentifierNode identifier:
                name = identifier.Name;
                break;
            case CallNode { Callee: IdentifierNode callee } call:
                name = callee.Name;
                (args, keywords) = EvaluateArguments(call.Arguments, env);
                break;
            default:
                throw Error(filterNode, "invalid filter");
        }
        JinjaValue Arg(int index, string keyword, JinjaValue fallback) =>
            index < args.Count ? args[index] : keywords.TryGet(keyword, out var value) ? value : fallback;

        switch (name)
        {
            case "safe":
                return operand;
            case "tojson":
                var indent = Arg(99, "indent", JinjaNull.Instance);
                var separators = Arg(99, "separators", JinjaNull.Instance);
                var options = new JinjaJson.Options(
                    Indent: indent is JinjaNumber n ? (int)n.Value : null,
                    EnsureAscii: Arg(99, "ensure_ascii", JinjaBool.False).IsTruthy,
                    SortKeys: Arg(99, "sort_keys", JinjaBool.False).IsTruthy,
                    ItemSeparator: separators is JinjaArray { Items: [JinjaString item, _] } ? item.Value : null,
                    KeySeparator: separators is JinjaArray { Items: [_, JinjaString key] } ? key.Value : null);
                return new JinjaString(JinjaJson.Serialize(operand, options));
            case "default" or "d":
                var fallback = Arg(0, "default_value", new JinjaString(""));
                bool boolean = Arg(1, "boolean", JinjaBool.False).IsTruthy;
                return operand is JinjaUndefined || (boolean && !operand.IsTruthy) ? fallback : operand;
            case "length" or "count":
                return operand switch
                {
                    JinjaString s => JinjaValue.Number(s.Value.Length),
                    JinjaArray a => JinjaValue.Number(a.Items.Count),
                    JinjaObject o => JinjaValue.Number(o.Count),
                    _ => throw Error(filterNode, $"cannot take the length of {TypeName(operand)}"),
                };
            case "string":
                return operand switch
                {
                    JinjaString => operand,
                    JinjaArray => new JinjaString(operand.ToString()),
                    _ => new JinjaString(operand.ToString()),
                };
            case "int" or "float":
                var numberFallback = Arg(0, "default", new JinjaNumber(0, name == "int"));
                return operand switch
                {
                    JinjaString s => ParseNumber(s.Value, name == "int") is double v ? new JinjaNumber(v, name == "int") : numberFallback,
                    JinjaNumber num => name == "int" && !num.IsInteger && args.Count == 0 && filterNode is IdentifierNode
                        ? new JinjaNumber(Math.Floor(num.Value), true)
                        : name == "float" ? new JinjaNumber(num.Value, false) : num,
                    JinjaBool b => new JinjaNumber(b.Value ? 1 : 0, name == "int"),
                    _ => throw Error(filterNode, $"cannot apply filter '{name}' to {TypeName(operand)}"),
                };
            case "abs" when operand is JinjaNumber absolute:
                return absolute with { Value = Math.Abs(absolute.Value) };
            case "bool" when operand is JinjaBool:
                return operand;
            case "items" when operand is JinjaObject { IsNamespace: false } dict:
                return Items(dict);
        }
        switch (operand)
        {
            case JinjaArray array:
                return ArrayFilter(array, name, args, keywords, filterNode);
            case JinjaString str:
                return StringFilter(str.Value, name, args, keywords, filterNode);
            case JinjaObject { IsNamespace: false } obj when DictMethod(obj, name) is JinjaFunction method:
                var methodArgs = new List<JinjaValue>(args);
                if (keywords.Count > 0)
                {
                    methodArgs.Add(keywords);
                }
                return method.Invoke(methodArgs, env);
        }
        throw Error(filterNode, $"unknown filter '{name}' for {TypeName(operand)}");
    }

    private static double? ParseNumber(string text, bool integer)
    {
        text = text.Trim();
        if (integer)
        {
            int end = 0;
            if (end < text.Length && text[end] is '+' or '-')
            {
                end++;
            }
            while (end < text.Length && char.IsAsciiDigit(text[end]))
            {
                end++;
            }
            return long.TryParse(text.AsSpan(0, end), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long l) ? l : null;
        }
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) ? d : null;
    }

    private JinjaValue ArrayFilter(JinjaArray array, string name, List<JinjaValue> args, JinjaObject keywords, Node node)
    {
        switch (name)
        {
            case "list":
                return array;
            case "first":
                return array.Items.Count > 0 ? array.Items[0] : JinjaUndefined.Instance;
            case "last":
                return array.Items.Count > 0 ? array.Items[^1] : JinjaUndefined.Instance;
            case "reverse":
                return new JinjaArray(Enumerable.Reverse(array.Items).ToList());
            case "join":
                string separator = args.Count > 0 && args[0] is JinjaString sep ? sep.Value
                    : keywords.TryGet("d", out var d) && d is JinjaString ds ? ds.Value : "";
                return new JinjaString(string.Join(separator, array.Items.Select(i => i.ToConcatString())));
            case "unique":
                var seen = new List<JinjaValue>();
                foreach (var item in array.Items.Where(item => !seen.Any(s => StrictEquals(s, item))))
                {
                    seen.Add(item);
                }
                return new JinjaArray(seen);
            case "sort":
                bool reverse = (args.Count > 0 ? args[0] : keywords.TryGet("reverse", out var r) ? r : JinjaBool.False).IsTruthy;
                string? attribute = keywords.TryGet("attribute", out var a) && a is JinjaString attr ? attr.Value : null;
                var sorted = array.Items.ToList();
                sorted.Sort((x, y) =>
                {
                    int c = Compare(attribute is null ? x : Attribute(x, attribute), attribute is null ? y : Attribute(y, attribute));
                    return reverse ? -c : c;
                });
                return new JinjaArray(sorted);
            case "selectattr" or "rejectattr":
                bool select = name == "selectattr";
                string attributeName = args.Count > 0 && args[0] is JinjaString an ? an.Value : throw Error(node, $"{name} needs an attribute name");
                return new JinjaArray(array.Items.Where(item =>
                {
                    var value = Attribute(item, attributeName);
                    bool result = args.Count > 1 && args[1] is JinjaString test
                        ? RunNamedTest(test.Value, value, args.Count > 2 ? args[2] : JinjaUndefined.Instance, node)
                        : value.IsTruthy;
                    return result == select;
                }).ToList());
            case "map":
                if (keywords.TryGet("attribute", out var mapAttribute) && mapAttribute is JinjaString mapName)
                {
                    var fallback = keywords.TryGet("default", out var f) ? f : JinjaUndefined.Instance;
                    return new JinjaArray(array.Items.Select(item => Attribute(item, mapName.Value) is JinjaUndefined ? fallback : Attribute(item, mapName.Value)).ToList());
                }
                throw Error(node, "map() is supported with attribute= only");
            default:
                throw Error(node, $"unknown filter '{name}' for list");
        }
    }

    private bool RunNamedTest(string test, JinjaValue value, JinjaValue argument, Node node) => test switch
    {
        "equalto" or "eq" or "==" => StrictEquals(value, argument),
        "ne" or "!=" => !StrictEquals(value, argument),
        "defined" => value is not JinjaUndefined,
        "undefined" => value is JinjaUndefined,
        "none" => value is JinjaNull,
        "string" => value is JinjaString,
        "true" => value is JinjaBool { Value: true },
        "false" => value is JinjaBool { Value: false },
        _ => throw Error(node, $"unknown test '{test}'"),
    };

    private static JinjaValue Attribute(JinjaValue item, string path)
    {
        foreach (string part in path.Split('.'))
        {
            item = item switch
            {
                JinjaObject obj => obj.TryGet(part, out var v) ? v : JinjaUndefined.Instance,
                JinjaArray arr when int.TryParse(part, out int i) && i >= 0 && i < arr.Items.Count => arr.Items[i],
                _ => JinjaUndefined.Instance,
            };
        }
        return item;
    }

    private static int Compare(JinjaValue a, JinjaValue b) => (a, b) switch
    {
        (JinjaNumber or JinjaBool, JinjaNumber or JinjaBool) => ToNumber(a).CompareTo(ToNumber(b)),
        (JinjaString x, JinjaString y) => string.CompareOrdinal(x.Value.ToLowerInvariant(), y.Value.ToLowerInvariant()),
        _ => throw new JinjaRuntimeException($"cannot compare {TypeName(a)} with {TypeName(b)}"),
    };

    private JinjaValue StringFilter(string value, string name, List<JinjaValue> args, JinjaObject keywords, Node node)
    {
        switch (name)
        {
            case "upper" or "lower" or "title" or "capitalize":
                return ((JinjaFunction)StringMethod(value, name)!).Invoke([], null!);
            case "trim":
                return new JinjaString(CharClass.JsTrim(value));
            case "join":
                string separator = args.Count > 0 && args[0] is JinjaString sep ? sep.Value : "";
                return new JinjaString(string.Join(separator, CodePoints(value)));
            case "indent":
                int width = args.Count > 0 && args[0] is JinjaNumber w ? (int)w.Value
                    : keywords.TryGet("width", out var kw) && kw is JinjaNumber kwn ? (int)kwn.Value : 4;
                bool first = (args.Count > 1 ? args[1] : keywords.TryGet("first", out var f) ? f : JinjaBool.False).IsTruthy;
                bool blank = (args.Count > 2 ? args[2] : keywords.TryGet("blank", out var b) ? b : JinjaBool.False).IsTruthy;
                string pad = new(' ', width);
                var lines = value.Split('\n');
                for (int i = 0; i < lines.Length; i++)
                {
                    if ((i > 0 || first) && (lines[i].Length > 0 || blank))
                    {
                        lines[i] = pad + lines[i];
                    }
                }
                return new JinjaString(string.Join('\n', lines));
            case "replace":
                var replaceArgs = new List<JinjaValue>(args);
                if (keywords.Count > 0)
                {
                    replaceArgs.Add(keywords);
                }
                return ((JinjaFunction)StringMethod(value, "replace")!).Invoke(replaceArgs, null!);
            case "list":
                return new JinjaArray(CodePoints(value).Select(c => (JinjaValue)new JinjaString(c)).ToList());
            case "first":
                return value.Length > 0 ? new JinjaString(CodePoints(value)[0]) : JinjaUndefined.Instance;
            case "last":
                return value.Length > 0 ? new JinjaString(CodePoints(value)[^1]) : JinjaUndefined.Instance;
            case "reverse":
                var reversed = CodePoints(value);
                reversed.Reverse();
                return new JinjaString(string.Concat(reversed));
            default:
                throw Error(node, $"unknown filter '{name}' for string");
        }
    }

    private static JinjaArray Items(JinjaObject dict) =>
        new(dict.Entries.Select(e => (JinjaValue)new JinjaArray([new JinjaString(e.Key), e.Value])).ToList());

    private static JinjaFunction? DictMethod(JinjaObject obj, string name) => name switch
    {
        "get" => new JinjaFunction("get", (args, _) =>
            args.Count > 0 && args[0] is JinjaString key
                ? obj.TryGet(key.Value, out var value) ? value : args.Count > 1 ? args[1] : JinjaNull.Instance
                : throw new JinjaRuntimeException("dict.get() takes a string key")),
        "items" => new JinjaFunction("items", (_, _) => Items(obj)),
        "keys" => new JinjaFunction("keys", (_, _) => new JinjaArray(obj.Keys.Select(k => (JinjaValue)new JinjaString(k)).ToList())),
        "values" => new JinjaFunction("values", (_, _) => new JinjaArray(obj.Entries.Select(e => e.Value).ToList())),
        "dictsort" => new JinjaFunction("dictsort", (args, _) =>
        {
            var keywords = args.Count > 0 && args[^1] is JinjaObject { IsKeywordArguments: true } k ? k : new JinjaObject();
            bool byValue = keywords.TryGet("by", out var by) && by is JinjaString { Value: "value" };
            bool reverse = keywords.TryGet("reverse", out var r) && r.IsTruthy;
            var entries = obj.Entries.ToList();
            entries.Sort((x, y) =>
            {
                int c = byValue ? Compare(x.Value, y.Value) : string.CompareOrdinal(x.Key.ToLowerInvariant(), y.Key.ToLowerInvariant());
                return reverse ? -c : c;
            });
            return new JinjaArray(entries.Select(e => (JinjaValue)new JinjaArray([new JinjaString(e.Key), e.Value])).ToList());
        }),
        _ => null,
    };

    private static JinjaValue? StringMethod(string value, string name) => name switch
    {
        "length" => JinjaValue.Number(value.Length),
        "upper" => Method(name, _ => new JinjaString(value.ToUpperInvariant())),
        "lower" => Method(name, _ => new JinjaString(value.ToLowerInvariant())),
        "title" => Method(name, _ => new JinjaString(TitleCase(value))),
        "capitalize" => Method(name, _ => new JinjaString(value.Length == 0 ? value : char.ToUpperInvariant(value[0]) + value[1..])),
        "strip" => Method(name, args => new JinjaString(Strip(value, args, start: true, end: true))),
        "lstrip" => Method(name, args => new JinjaString(Strip(value, args, start: true, end: false))),
        "rstrip" => Method(name, args => new JinjaString(Strip(value, args, start: false, end: true))),
        "startswith" => Method(name, args => JinjaBool.Of(Affixes(args, name).Any(p => value.StartsWith(p, StringComparison.Ordinal)))),
        "endswith" => Method(name, args => JinjaBool.Of(Affixes(args, name).Any(p => value.EndsWith(p, StringComparison.Ordinal)))),
        "split" => Method(name, args => Split(value, args)),
        "replace" => Method(name, args => Replace(value, args)),
        "count" => Method(name, args => args is [JinjaString { Value.Length: > 0 } needle]
            ? JinjaValue.Number((value.Length - value.Replace(needle.Value, "", StringComparison.Ordinal).Length) / needle.Value.Length)
            : throw new JinjaRuntimeException("count() takes a non-empty string")),
        "find" => Method(name, args => args is [JinjaString needle]
            ? JinjaValue.Number(value.IndexOf(needle.Value, StringComparison.Ordinal))
            : throw new JinjaRuntimeException("find() takes a string")),
        _ => null,
    };

    private static JinjaFunction Method(string name, Func<List<JinjaValue>, JinjaValue> body) => new(name, (args, _) => body(args));

    private static string TitleCase(string value)
    {
        var chars = value.ToCharArray();
        for (int i = 0; i < chars.Length; i++)
        {
            bool wordStart = char.IsAsciiLetterOrDigit(chars[i]) || chars[i] == '_';
            bool previousWord = i > 0 && (char.IsAsciiLetterOrDigit(chars[i - 1]) || chars[i - 1] == '_');
            if (wordStart && !previousWord)
            {
                chars[i] = char.ToUpperInvariant(chars[i]);
            }
        }
        return new string(chars);
    }

    /// <summary>Python's str.strip family: whitespace by default, or the characters given.</summary>
    private static string Strip(string value, List<JinjaValue> args, bool start, bool end)
    {
        if (args.Count > 0 && args[0] is JinjaString chars)
        {
            var span = value.AsSpan();
            span = start ? span.TrimStart(chars.Value) : span;
            span = end ? span.TrimEnd(chars.Value) : span;
            return span.Length == value.Length ? value : new string(span);
        }
        return (start, end) switch
        {
            (true, true) => CharClass.JsTrim(value),
            (true, false) => CharClass.JsTrimStart(value),
            _ => CharClass.JsTrimEnd(value),
        };
    }

    private static IEnumerable<string> Affixes(List<JinjaValue> args, string method) => args.Count == 0
        ? throw new JinjaRuntimeException($"{method}() requires an argument")
        : args[0] switch
        {
            JinjaString s => [s.Value],
            JinjaArray a => a.Items.Select(i => i is JinjaString s ? s.Value : throw new JinjaRuntimeException($"{method}() tuple elements must be strings")),
            _ => throw new JinjaRuntimeException($"{method}() argument must be a string or tuple of strings"),
        };

    private static JinjaArray Split(string value, List<JinjaValue> args)
    {
        var separator = args.Count > 0 ? args[0] : JinjaNull.Instance;
        int maxSplit = args.Count > 1 && args[1] is JinjaNumber m ? (int)m.Value : -1;
        var parts = new List<string>();
        if (separator is JinjaNull)
        {
            var words = CharClass.JsTrimStart(value);
            int i = 0;
            while (i < words.Length)
            {
                while (i < words.Length && CharClass.IsJsTrimSpace(words[i]))
                {
                    i++;
                }
                if (i >= words.Length)
                {
                    break;
                }
                if (maxSplit >= 0 && parts.Count >= maxSplit)
                {
                    parts.Add(words[i..]);
                    break;
                }
                int startWord = i;
                while (i < words.Length && !CharClass.IsJsTrimSpace(words[i]))
                {
                    i++;
                }
                parts.Add(words[startWord..i]);
            }
        }
        else if (separator is JinjaString { Value.Length: > 0 } sep)
        {
            parts.AddRange(maxSplit >= 0 ? value.Split(sep.Value, maxSplit + 1) : value.Split(sep.Value));
        }
        else
        {
            throw new JinjaRuntimeException("split() separator must be a non-empty string or none");
        }
        return new JinjaArray(parts.Select(p => (JinjaValue)new JinjaString(p)).ToList());
    }

    private static JinjaString Replace(string value, List<JinjaValue> args)
    {
        if (args.Count < 2 || args[0] is not JinjaString oldValue || args[1] is not JinjaString newValue)
        {
            throw new JinjaRuntimeException("replace() takes two strings");
        }
        var countArg = args.Count > 2 ? args[2] is JinjaObject { IsKeywordArguments: true } k
            ? (k.TryGet("count", out var c) ? c : JinjaNull.Instance) : args[2] : JinjaNull.Instance;
        int count = countArg is JinjaNumber n ? (int)n.Value : -1;
        if (count == 0)
        {
            return new JinjaString(value);
        }
        if (oldValue.Value.Length == 0)
        {
            var sb = new StringBuilder();
            int inserted = 0;
            foreach (string cp in CodePoints(value))
            {
                if (count < 0 || inserted < count)
                {
                    sb.Append(newValue.Value);
                    inserted++;
                }
                sb.Append(cp);
            }
            if (count < 0 || inserted < count)
            {
                sb.Append(newValue.Value);
            }
            return new JinjaString(sb.ToString());
        }
        var result = new StringBuilder();
        int at = 0;
        int replaced = 0;
        while (count < 0 || replaced < count)
        {
            int found = value.IndexOf(oldValue.Value, at, StringComparison.Ordinal);
            if (found < 0)
            {
                break;
            }
            result.Append(value, at, found - at).Append(newValue.Value);
            at = found + oldValue.Value.Length;
            replaced++;
        }
        result.Append(value, at, value.Length - at);
        return new JinjaString(result.ToString());
    }
}
