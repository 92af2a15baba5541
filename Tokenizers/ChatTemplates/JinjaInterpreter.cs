using System.Text;

namespace OrleansLlm.Tokenizers.ChatTemplates;

/// <summary>Evaluates a parsed template. Errors name their position in the template.</summary>
internal sealed partial class JinjaInterpreter(string source)
{
    private sealed class BreakSignal : Exception;

    private sealed class ContinueSignal : Exception;

    private int _depth;

    public string Render(List<Node> program, JinjaEnvironment environment) => RenderBlock(program, environment);

    private TokenizerException Error(Node node, string message) =>
        new($"Chat template error at {JinjaLexer.Where(source, node.Position)}: {message}");

    private string RenderBlock(List<Node> nodes, JinjaEnvironment environment)
    {
        var sb = new StringBuilder();
        foreach (var node in nodes)
        {
            var value = Evaluate(node, environment);
            if (value is not (JinjaNull or JinjaUndefined))
            {
                sb.Append(value.ToString());
            }
        }
        return sb.ToString();
    }

    private JinjaValue Evaluate(Node node, JinjaEnvironment env)
    {
        if (++_depth > 512)
        {
            _depth--;
            throw Error(node, "nesting or recursion deeper than 512 levels");
        }
        try
        {
            return node switch
            {
                TextNode text => new JinjaString(text.Value),
                CommentNode => JinjaNull.Instance,
                LiteralNode literal => literal.Value,
                IdentifierNode identifier => env.Lookup(identifier.Name),
                ArrayNode array => new JinjaArray(array.Items.Select(i => Evaluate(i, env)).ToList(), array.IsTuple),
                ObjectNode obj => EvaluateObject(obj, env),
                SetNode set => EvaluateSet(set, env),
                IfNode ifNode => new JinjaString(RenderBlock(Evaluate(ifNode.Test, env).IsTruthy ? ifNode.Body : ifNode.Alternate, env)),
                ForNode forNode => EvaluateFor(forNode, env),
                BreakNode => throw new BreakSignal(),
                ContinueNode => throw new ContinueSignal(),
                MacroNode macro => DefineMacro(macro, env),
                FilterBlockNode block => ApplyFilter(new JinjaString(RenderBlock(block.Body, env)), block.Filter, env),
                MemberNode member => EvaluateMember(member, env),
                CallNode call => EvaluateCall(call, env),
                BinaryNode binary => EvaluateBinary(binary, env),
                UnaryNode unary => EvaluateUnary(unary, env),
                FilterNode filter => ApplyFilter(Evaluate(filter.Operand, env), filter.Filter, env),
                TestNode test => EvaluateTest(test, env),
                SelectNode select => Evaluate(select.Test, env).IsTruthy ? Evaluate(select.Value, env) : JinjaUndefined.Instance,
                TernaryNode ternary => Evaluate(Evaluate(ternary.Condition, env).IsTruthy ? ternary.IfTrue : ternary.IfFalse, env),
                _ => throw Error(node, $"unsupported construct {node.GetType().Name.Replace("Node", "", StringComparison.Ordinal)}"),
            };
        }
        catch (JinjaRuntimeException e)
        {
            throw Error(node, e.Message);
        }
        finally
        {
            _depth--;
        }
    }

    private JinjaObject EvaluateObject(ObjectNode node, JinjaEnvironment env)
    {
        var result = new JinjaObject();
        foreach (var (keyNode, valueNode) in node.Entries)
        {
            if (Evaluate(keyNode, env) is not JinjaString key)
            {
                throw Error(keyNode, "dict keys must be strings");
            }
            result.Set(key.Value, Evaluate(valueNode, env));
        }
        return result;
    }

    private JinjaValue EvaluateSet(SetNode node, JinjaEnvironment env)
    {
        var value = node.Value is not null ? Evaluate(node.Value, env) : new JinjaString(RenderBlock(node.Body, env));
        switch (node.Target)
        {
            case IdentifierNode identifier:
                env.Set(identifier.Name, value);
                break;
            case ArrayNode { IsTuple: true } tuple:
                if (value is not JinjaArray items)
                {
                    throw Error(node, "cannot unpack a non-sequence in set");
                }
                if (items.Items.Count != tuple.Items.Count)
                {
                    throw Error(node, $"expected {tuple.Items.Count} values to unpack, got {items.Items.Count}");
                }
                for (int i = 0; i < tuple.Items.Count; i++)
                {
                    if (tuple.Items[i] is not IdentifierNode name)
                    {
                        throw Error(node, "can only unpack into names");
                    }
                    env.Set(name.Name, items.Items[i]);
                }
                break;
            case MemberNode { Computed: false, Property: IdentifierNode property } member:
                if (Evaluate(member.Target, env) is not JinjaObject { IsNamespace: true } ns)
                {
                    throw Error(node, "cannot assign an attribute of something that is not a namespace");
                }
                ns.Set(property.Name, value);
                break;
            default:
                throw Error(node, "invalid assignment target");
        }
        return JinjaNull.Instance;
    }

    private JinjaValue EvaluateFor(ForNode node, JinjaEnvironment env)
    {
        var scope = new JinjaEnvironment(env);
        var iterable = Evaluate(node.Iterable, scope);
        List<JinjaValue> source = iterable switch
        {
            JinjaArray array => array.Items,
            JinjaObject obj => obj.Keys.Select(k => (JinjaValue)new JinjaString(k)).ToList(),
            _ => throw Error(node.Iterable, $"cannot iterate over {TypeName(iterable)}"),
        };
        var items = new List<JinjaValue>();
        foreach (var item in source)
        {
            if (node.Filter is not null)
            {
                var testScope = new JinjaEnvironment(scope);
                BindLoopVariable(node, item, testScope);
                if (!Evaluate(node.Filter, testScope).IsTruthy)
                {
                    continue;
                }
            }
            items.Add(item);
        }
        var sb = new StringBuilder();
        bool iterated = false;
        for (int i = 0; i < items.Count; i++)
        {
            var loop = new JinjaObject();
            loop.Set("index", JinjaValue.Number(i + 1));
            loop.Set("index0", JinjaValue.Number(i));
            loop.Set("revindex", JinjaValue.Number(items.Count - i));
            loop.Set("revindex0", JinjaValue.Number(items.Count - i - 1));
            loop.Set("first", JinjaBool.Of(i == 0));
            loop.Set("last", JinjaBool.Of(i == items.Count - 1));
            loop.Set("length", JinjaValue.Number(items.Count));
            loop.Set("previtem", i > 0 ? items[i - 1] : JinjaUndefined.Instance);
            loop.Set("nextitem", i < items.Count - 1 ? items[i + 1] : JinjaUndefined.Instance);
            scope.Set("loop", loop);
            BindLoopVariable(node, items[i], scope);
            try
            {
                sb.Append(RenderBlock(node.Body, scope));
            }
            catch (ContinueSignal)
            {
                continue;
            }
            catch (BreakSignal)
            {
                break;
            }
            iterated = true;
        }
        if (!iterated)
        {
            sb.Append(RenderBlock(node.Else, scope));
        }
        return new JinjaString(sb.ToString());
    }

    private void BindLoopVariable(ForNode node, JinjaValue item, JinjaEnvironment scope)
    {
        if (node.LoopVariable is IdentifierNode name)
        {
            scope.Set(name.Name, item);
            return;
        }
        var tuple = (ArrayNode)node.LoopVariable;
        if (item is not JinjaArray values)
        {
            throw Error(node, $"cannot unpack {TypeName(item)} into the loop variables");
        }
        if (values.Items.Count != tuple.Items.Count)
        {
            throw Error(node, $"expected {tuple.Items.Count} values to unpack, got {values.Items.Count}");
        }
        for (int i = 0; i < tuple.Items.Count; i++)
        {
            if (tuple.Items[i] is not IdentifierNode variable)
            {
                throw Error(node, "can only unpack into names");
            }
            scope.Set(variable.Name, values.Items[i]);
        }
    }

    private JinjaValue DefineMacro(MacroNode macro, JinjaEnvironment env)
    {
        env.Set(macro.Name, new JinjaFunction(macro.Name, (args, callerScope) =>
        {
            var scope = new JinjaEnvironment(callerScope);
            var positional = args.ToList();
            var keywords = positional.Count > 0 && positional[^1] is JinjaObject { IsKeywordArguments: true } kw ? kw : null;
            if (keywords is not null)
            {
                positional.RemoveAt(positional.Count - 1);
            }
            if (positional.Count > macro.Parameters.Count)
            {
                throw new JinjaRuntimeException($"macro '{macro.Name}' takes not more than {macro.Parameters.Count} argument(s)");
            }
            var defaults = new List<(string Name, Node Value)>();
            for (int i = 0; i < macro.Parameters.Count; i++)
            {
                var (name, fallback) = macro.Parameters[i] switch
                {
                    IdentifierNode id => (id.Name, (Node?)null),
                    KeywordArgumentNode kwarg => (kwarg.Name, kwarg.Value),
                    _ => throw new JinjaRuntimeException($"macro '{macro.Name}' has an invalid parameter"),
                };
                JinjaValue? value = i < positional.Count ? positional[i] : null;
                if (value is null && keywords is not null && keywords.TryGet(name, out var named))
                {
                    value = named;
                    keywords.Remove(name);
                }
                if (value is null && fallback is not null)
                {
                    defaults.Add((name, fallback));
                }
                scope.Set(name, value ?? JinjaUndefined.Instance);
            }
            if (keywords is { Count: > 0 })
            {
                throw new JinjaRuntimeException($"macro '{macro.Name}' takes no keyword argument '{keywords.Keys.First()}'");
            }
            foreach (var (name, fallback) in defaults)
            {
                scope.Set(name, Evaluate(fallback, scope));
            }
            return new JinjaString(RenderBlock(macro.Body, scope));
        }));
        return JinjaNull.Instance;
    }

    private (List<JinjaValue> Positional, JinjaObject Keywords) EvaluateArguments(List<Node> arguments, JinjaEnvironment env)
    {
        var positional = new List<JinjaValue>();
        var keywords = new JinjaObject(isKeywordArguments: true);
        foreach (var argument in arguments)
        {
            if (argument is KeywordArgumentNode kwarg)
            {
                keywords.Set(kwarg.Name, Evaluate(kwarg.Value, env));
            }
            else
            {
                positional.Add(Evaluate(argument, env));
            }
        }
        return (positional, keywords);
    }

    private JinjaValue EvaluateCall(CallNode call, JinjaEnvironment env)
    {
        var (args, keywords) = EvaluateArguments(call.Arguments, env);
        if (keywords.Count > 0)
        {
            args.Add(keywords);
        }
        var callee = Evaluate(call.Callee, env);
        if (callee is not JinjaFunction function)
        {
            throw Error(call, $"cannot call {TypeName(callee)} ({Describe(call.Callee)} is not a function)");
        }
        return function.Invoke(args, env);
    }

    private static string Describe(Node node) => node switch
    {
        IdentifierNode id => $"'{id.Name}'",
        MemberNode { Property: IdentifierNode p } => $"'.{p.Name}'",
        _ => "the callee",
    };

    private JinjaValue EvaluateMember(MemberNode node, JinjaEnvironment env)
    {
        var target = Evaluate(node.Target, env);
        if (node.Computed && node.Property is SliceNode slice)
        {
            return EvaluateSlice(target, slice, env);
        }
        JinjaValue property = node.Computed
            ? Evaluate(node.Property, env)
            : node.Property switch
            {
                IdentifierNode id => new JinjaString(id.Name),
                LiteralNode literal => literal.Value,
                _ => throw Error(node, "invalid member access"),
            };
        return GetMember(target, property) ?? JinjaUndefined.Instance;
    }

    private JinjaValue? GetMember(JinjaValue target, JinjaValue property)
    {
        switch (target)
        {
            case JinjaObject obj:
                if (property is not JinjaString key)
                {
                    throw new JinjaRuntimeException($"cannot access a dict member with {TypeName(property)}");
                }
                return obj.TryGet(key.Value, out var value) ? value : obj.IsNamespace ? null : DictMethod(obj, key.Value);
            case JinjaArray array:
                if (property is JinjaNumber { IsInteger: true } index)
                {
                    int i = (int)index.Value;
                    i = i < 0 ? array.Items.Count + i : i;
                    return i >= 0 && i < array.Items.Count ? array.Items[i] : null;
                }
                return property is JinjaString { Value: "length" } ? JinjaValue.Number(array.Items.Count) : null;
            case JinjaString str:
                if (property is JinjaNumber { IsInteger: true } charIndex)
                {
                    int i = (int)charIndex.Value;
                    i = i < 0 ? str.Value.Length + i : i;
                    return i >= 0 && i < str.Value.Length ? new JinjaString(str.Value[i].ToString()) : null;
                }
                return property is JinjaString name ? StringMethod(str.Value, name.Value) : null;
            default:
                return null;
        }
    }

    private JinjaValue EvaluateSlice(JinjaValue target, SliceNode slice, JinjaEnvironment env)
    {
        int? Part(Node? node)
        {
            if (node is null)
            {
                return null;
            }
            return Evaluate(node, env) switch
            {
                JinjaNumber { IsInteger: true } n => (int)n.Value,
                JinjaUndefined => null,
                _ => throw Error(node, "slice bounds must be integers"),
            };
        }
        int? start = Part(slice.Start);
        int? stop = Part(slice.Stop);
        int step = Part(slice.Step) ?? 1;
        if (step == 0)
        {
            throw Error(slice, "slice step cannot be zero");
        }
        switch (target)
        {
            case JinjaArray array:
                return new JinjaArray(SliceIndices(array.Items.Count, start, stop, step).Select(i => array.Items[i]).ToList());
            case JinjaString str:
                var codePoints = CodePoints(str.Value);
                return new JinjaString(string.Concat(SliceIndices(codePoints.Count, start, stop, step).Select(i => codePoints[i])));
            default:
                throw Error(slice, $"cannot slice {TypeName(target)}");
        }
    }

    private static List<string> CodePoints(string s)
    {
        var result = new List<string>(s.Length);
        for (int i = 0; i < s.Length;)
        {
            CharClass.CodePointAt(s, i, out int width);
            result.Add(s.Substring(i, width));
            i += width;
        }
        return result;
    }

    private static IEnumerable<int> SliceIndices(int length, int? start, int? stop, int step)
    {
        int from, to;
        if (step > 0)
        {
            from = start is int s ? (s < 0 ? Math.Max(length + s, 0) : Math.Min(s, length)) : 0;
            to = stop is int e ? (e < 0 ? Math.Max(length + e, 0) : Math.Min(e, length)) : length;
            for (int i = from; i < to; i += step)
            {
                yield return i;
            }
        }
        else
        {
            from = start is int s ? (s < 0 ? Math.Max(length + s, -1) : Math.Min(s, length - 1)) : length - 1;
            to = stop is int e ? (e < -1 ? Math.Max(length + e, -1) : Math.Min(e, length - 1)) : -1;
            for (int i = from; i > to; i += step)
            {
                yield return i;
            }
        }
    }

    private JinjaValue EvaluateUnary(UnaryNode node, JinjaEnvironment env)
    {
        var operand = Evaluate(node.Operand, env);
        if (node.Operator == "not")
        {
            return JinjaBool.Of(!operand.IsTruthy);
        }
        double sign = node.Operator == "-" ? -1 : 1;
        return operand switch
        {
            JinjaNumber n => new JinjaNumber(sign * n.Value, n.IsInteger),
            JinjaBool b => JinjaValue.Number(sign * (b.Value ? 1 : 0)),
            _ => throw Error(node, $"bad operand {TypeName(operand)} for unary '{node.Operator}'"),
        };
    }

    internal static string TypeName(JinjaValue value) => value switch
    {
        JinjaUndefined => "undefined",
        JinjaNull => "none",
        JinjaBool => "bool",
        JinjaNumber { IsInteger: true } => "int",
        JinjaNumber => "float",
        JinjaString => "string",
        JinjaArray { IsTuple: true } => "tuple",
        JinjaArray => "list",
        JinjaObject { IsNamespace: true } => "namespace",
        JinjaObject => "dict",
        JinjaFunction => "function",
        _ => value.GetType().Name,
    };
}

/// <summary>A runtime error inside a builtin; the interpreter adds the template position.</summary>
internal sealed class JinjaRuntimeException(string message) : Exception(message);
