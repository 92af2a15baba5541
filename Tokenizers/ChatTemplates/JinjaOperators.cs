using System.Globalization;

namespace OrleansLlm.Tokenizers.ChatTemplates;

/// <summary>Binary operators and tests, with the reference interpreter's (JavaScript-flavoured) semantics.</summary>
internal sealed partial class JinjaInterpreter
{
    private JinjaValue EvaluateBinary(BinaryNode node, JinjaEnvironment env)
    {
        var left = Evaluate(node.Left, env);
        switch (node.Operator)
        {
            case "and":
                return left.IsTruthy ? Evaluate(node.Right, env) : left;
            case "or":
                return left.IsTruthy ? left : Evaluate(node.Right, env);
        }
        var right = Evaluate(node.Right, env);
        string op = node.Operator;
        switch (op)
        {
            case "==":
                return JinjaBool.Of(LooseEquals(left, right));
            case "!=":
                return JinjaBool.Of(!LooseEquals(left, right));
        }
        if (left is JinjaUndefined || right is JinjaUndefined)
        {
            if (right is JinjaUndefined && op is "in" or "not in")
            {
                return JinjaBool.Of(op == "not in");
            }
            throw Error(node, $"cannot apply '{op}' to an undefined value");
        }
        if (left is JinjaNull || right is JinjaNull)
        {
            throw Error(node, $"cannot apply '{op}' to none");
        }
        if (op == "~")
        {
            return new JinjaString(left.ToConcatString() + right.ToConcatString());
        }
        if (left is JinjaNumber a && right is JinjaNumber b)
        {
            bool isFloat = !a.IsInteger || !b.IsInteger;
            switch (op)
            {
                case "+": return new JinjaNumber(a.Value + b.Value, !isFloat);
                case "-": return new JinjaNumber(a.Value - b.Value, !isFloat);
                case "*": return new JinjaNumber(a.Value * b.Value, !isFloat);
                case "/": return new JinjaNumber(a.Value / b.Value, IsInteger: false);
                case "//": return new JinjaNumber(Math.Floor(a.Value / b.Value), !isFloat);
                case "%": return new JinjaNumber(a.Value % b.Value, !isFloat);
                case "**":
                    double power = Math.Pow(a.Value, b.Value);
                    return new JinjaNumber(power, !isFloat && b.Value >= 0);
                case "<": return JinjaBool.Of(a.Value < b.Value);
                case ">": return JinjaBool.Of(a.Value > b.Value);
                case "<=": return JinjaBool.Of(a.Value <= b.Value);
                case ">=": return JinjaBool.Of(a.Value >= b.Value);
            }
        }
        if (left is JinjaArray leftArray && right is JinjaArray rightArray && op == "+")
        {
            return new JinjaArray([.. leftArray.Items, .. rightArray.Items]);
        }
        if (right is JinjaArray haystack && op is "in" or "not in")
        {
            bool found = haystack.Items.Any(item => StrictEquals(item, left));
            return JinjaBool.Of(found == (op == "in"));
        }
        if ((left is JinjaString || right is JinjaString) && op == "+")
        {
            return new JinjaString(left.ToConcatString() + right.ToConcatString());
        }
        if (left is JinjaString needle && right is JinjaString text)
        {
            switch (op)
            {
                case "in": return JinjaBool.Of(text.Value.Contains(needle.Value, StringComparison.Ordinal));
                case "not in": return JinjaBool.Of(!text.Value.Contains(needle.Value, StringComparison.Ordinal));
                case "<": return JinjaBool.Of(string.CompareOrdinal(needle.Value, text.Value) < 0);
                case ">": return JinjaBool.Of(string.CompareOrdinal(needle.Value, text.Value) > 0);
                case "<=": return JinjaBool.Of(string.CompareOrdinal(needle.Value, text.Value) <= 0);
                case ">=": return JinjaBool.Of(string.CompareOrdinal(needle.Value, text.Value) >= 0);
            }
        }
        if (left is JinjaString key && right is JinjaObject { IsNamespace: false } dict && op is "in" or "not in")
        {
            return JinjaBool.Of(dict.TryGet(key.Value, out _) == (op == "in"));
        }
        throw Error(node, $"unsupported operator '{op}' between {TypeName(left)} and {TypeName(right)}");
    }

    /// <summary>JavaScript's <c>==</c> on the underlying values: null equals undefined, numbers, strings and booleans coerce.</summary>
    internal static bool LooseEquals(JinjaValue a, JinjaValue b)
    {
        bool aNullish = a is JinjaNull or JinjaUndefined;
        bool bNullish = b is JinjaNull or JinjaUndefined;
        if (aNullish || bNullish)
        {
            return aNullish && bNullish;
        }
        return (a, b) switch
        {
            (JinjaString x, JinjaString y) => x.Value == y.Value,
            (JinjaArray or JinjaObject or JinjaFunction, _) or (_, JinjaArray or JinjaObject or JinjaFunction) => ReferenceEquals(a, b),
            _ => ToNumber(a) == ToNumber(b),
        };
    }

    /// <summary>JavaScript's <c>===</c> on the underlying values.</summary>
    internal static bool StrictEquals(JinjaValue a, JinjaValue b) => (a, b) switch
    {
        (JinjaString x, JinjaString y) => x.Value == y.Value,
        (JinjaNumber x, JinjaNumber y) => x.Value == y.Value,
        (JinjaBool x, JinjaBool y) => x.Value == y.Value,
        (JinjaNull, JinjaNull) or (JinjaUndefined, JinjaUndefined) => true,
        _ => ReferenceEquals(a, b),
    };

    private static double ToNumber(JinjaValue value) => value switch
    {
        JinjaNumber n => n.Value,
        JinjaBool b => b.Value ? 1 : 0,
        JinjaString s => s.Value.Trim().Length == 0
            ? 0
            : double.TryParse(s.Value.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double d) ? d : double.NaN,
        _ => double.NaN,
    };

    private JinjaValue EvaluateTest(TestNode node, JinjaEnvironment env)
    {
        var operand = Evaluate(node.Operand, env);
        bool result = node.Test switch
        {
            "boolean" => operand is JinjaBool,
            "callable" => operand is JinjaFunction,
            "odd" => operand is JinjaNumber { IsInteger: true } odd ? odd.Value % 2 != 0 : throw Error(node, $"cannot test odd on {TypeName(operand)}"),
            "even" => operand is JinjaNumber { IsInteger: true } even ? even.Value % 2 == 0 : throw Error(node, $"cannot test even on {TypeName(operand)}"),
            "false" => operand is JinjaBool { Value: false },
            "true" => operand is JinjaBool { Value: true },
            "none" => operand is JinjaNull,
            "string" => operand is JinjaString,
            "number" => operand is JinjaNumber,
            "integer" => operand is JinjaNumber { IsInteger: true },
            "float" => operand is JinjaNumber { IsInteger: false },
            "iterable" => operand is JinjaArray or JinjaString,
            "mapping" => operand is JinjaObject { IsNamespace: false },
            "sequence" => operand is JinjaArray or JinjaString or JinjaObject { IsNamespace: false },
            "lower" => operand is JinjaString lower && lower.Value == lower.Value.ToLowerInvariant(),
            "upper" => operand is JinjaString upper && upper.Value == upper.Value.ToUpperInvariant(),
            "defined" => operand is not JinjaUndefined,
            "undefined" => operand is JinjaUndefined,
            _ => throw Error(node, $"unknown test '{node.Test}'"),
        };
        return JinjaBool.Of(node.Negate ? !result : result);
    }
}
