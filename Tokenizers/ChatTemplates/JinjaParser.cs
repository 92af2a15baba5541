using System.Globalization;

namespace OrleansLlm.Tokenizers.ChatTemplates;

/// <summary>Recursive-descent parser for the Jinja subset chat templates use.</summary>
internal sealed class JinjaParser
{
    private readonly List<JinjaToken> _tokens;
    private readonly string _source;
    private int _current;

    private JinjaParser(List<JinjaToken> tokens, string source)
    {
        _tokens = tokens;
        _source = source;
    }

    public static List<Node> Parse(List<JinjaToken> tokens, string source)
    {
        var parser = new JinjaParser(tokens, source);
        var program = new List<Node>();
        while (parser._current < tokens.Count)
        {
            program.Add(parser.ParseAny());
        }
        return program;
    }

    private JinjaToken Peek(int offset = 0) =>
        _current + offset < _tokens.Count ? _tokens[_current + offset] : throw Error("unexpected end of template", _source.Length);

    private bool Is(TokenKind kind) => _current < _tokens.Count && _tokens[_current].Kind == kind;

    private bool IsIdentifier(params string[] names)
    {
        for (int i = 0; i < names.Length; i++)
        {
            if (_current + i >= _tokens.Count || _tokens[_current + i].Kind != TokenKind.Identifier || _tokens[_current + i].Value != names[i])
            {
                return false;
            }
        }
        return true;
    }

    private bool IsStatement(params string[] names) =>
        _current + 1 < _tokens.Count && _tokens[_current].Kind == TokenKind.OpenStatement
        && _tokens[_current + 1].Kind == TokenKind.Identifier && names.Contains(_tokens[_current + 1].Value);

    private JinjaToken Expect(TokenKind kind, string what)
    {
        if (_current >= _tokens.Count)
        {
            throw Error($"expected {what} but the template ended", _source.Length);
        }
        var token = _tokens[_current++];
        if (token.Kind != kind)
        {
            throw Error($"expected {what}, found '{token.Value}'", token.Position);
        }
        return token;
    }

    private void ExpectIdentifier(string name)
    {
        if (!IsIdentifier(name))
        {
            throw Error($"expected '{name}'", _current < _tokens.Count ? _tokens[_current].Position : _source.Length);
        }
        _current++;
    }

    private TokenizerException Error(string message, int position) => JinjaLexer.Error(message, position, _source);

    private Node ParseAny()
    {
        var token = Peek();
        switch (token.Kind)
        {
            case TokenKind.Comment:
                _current++;
                return new CommentNode(token.Position);
            case TokenKind.Text:
                _current++;
                return new TextNode(token.Value, token.Position);
            case TokenKind.OpenStatement:
                return ParseStatement();
            case TokenKind.OpenExpression:
                _current++;
                var expression = ParseExpression();
                Expect(TokenKind.CloseExpression, "'}}'");
                return expression;
            default:
                throw Error($"unexpected '{token.Value}'", token.Position);
        }
    }

    private List<Node> ParseUntil(params string[] statements)
    {
        var body = new List<Node>();
        while (!IsStatement(statements))
        {
            if (_current >= _tokens.Count)
            {
                throw Error($"missing {{% {statements[^1]} %}}", _source.Length);
            }
            body.Add(ParseAny());
        }
        return body;
    }

    private void ExpectEnd(string name)
    {
        Expect(TokenKind.OpenStatement, "'{%'");
        ExpectIdentifier(name);
        Expect(TokenKind.CloseStatement, "'%}'");
    }

    private Node ParseStatement()
    {
        var open = Expect(TokenKind.OpenStatement, "'{%'");
        var name = Peek();
        if (name.Kind != TokenKind.Identifier)
        {
            throw Error($"expected a statement name, found '{name.Value}'", name.Position);
        }
        _current++;
        switch (name.Value)
        {
            case "set":
                return ParseSet(open.Position);
            case "if":
            {
                var node = ParseIf(open.Position);
                ExpectEnd("endif");
                return node;
            }
            case "for":
            {
                var node = ParseFor(open.Position);
                ExpectEnd("endfor");
                return node;
            }
            case "macro":
            {
                var macroName = Expect(TokenKind.Identifier, "a macro name");
                var parameters = ParseArguments();
                Expect(TokenKind.CloseStatement, "'%}'");
                var body = ParseUntil("endmacro");
                ExpectEnd("endmacro");
                return new MacroNode(macroName.Value, parameters, body, open.Position);
            }
            case "break":
                Expect(TokenKind.CloseStatement, "'%}'");
                return new BreakNode(open.Position);
            case "continue":
                Expect(TokenKind.CloseStatement, "'%}'");
                return new ContinueNode(open.Position);
            case "filter":
            {
                Node filter = ParsePrimary();
                if (filter is IdentifierNode && Is(TokenKind.OpenParen))
                {
                    filter = ParseCall(filter);
                }
                Expect(TokenKind.CloseStatement, "'%}'");
                var body = ParseUntil("endfilter");
                ExpectEnd("endfilter");
                return new FilterBlockNode(filter, body, open.Position);
            }
            default:
                throw Error($"unsupported statement '{name.Value}'", name.Position);
        }
    }

    private Node ParseSet(int position)
    {
        var target = ParseExpressionSequence(primary: false);
        if (Is(TokenKind.Equals))
        {
            _current++;
            var value = ParseExpressionSequence(primary: false);
            Expect(TokenKind.CloseStatement, "'%}'");
            return new SetNode(target, value, [], position);
        }
        Expect(TokenKind.CloseStatement, "'%}'");
        var body = ParseUntil("endset");
        ExpectEnd("endset");
        return new SetNode(target, null, body, position);
    }

    private IfNode ParseIf(int position)
    {
        var test = ParseExpression();
        Expect(TokenKind.CloseStatement, "'%}'");
        var body = ParseUntil("elif", "else", "endif");
        var alternate = new List<Node>();
        if (IsStatement("elif"))
        {
            int elifPosition = Peek().Position;
            _current += 2;
            alternate.Add(ParseIf(elifPosition));
        }
        else if (IsStatement("else"))
        {
            _current += 2;
            Expect(TokenKind.CloseStatement, "'%}'");
            alternate = ParseUntil("endif");
        }
        return new IfNode(test, body, alternate, position);
    }

    private ForNode ParseFor(int position)
    {
        var loopVariable = ParseExpressionSequence(primary: true);
        if (loopVariable is not (IdentifierNode or ArrayNode { IsTuple: true }))
        {
            throw Error("expected a loop variable or tuple", loopVariable.Position);
        }
        ExpectIdentifier("in");
        var iterable = ParseExpression();
        Node? filter = null;
        if (iterable is SelectNode select)
        {
            iterable = select.Value;
            filter = select.Test;
        }
        Expect(TokenKind.CloseStatement, "'%}'");
        var body = ParseUntil("endfor", "else");
        var otherwise = new List<Node>();
        if (IsStatement("else"))
        {
            _current += 2;
            Expect(TokenKind.CloseStatement, "'%}'");
            otherwise = ParseUntil("endfor");
        }
        return new ForNode(loopVariable, iterable, filter, body, otherwise, position);
    }

    private Node ParseExpressionSequence(bool primary)
    {
        var first = primary ? ParsePrimary() : ParseExpression();
        if (!Is(TokenKind.Comma))
        {
            return first;
        }
        var items = new List<Node> { first };
        while (Is(TokenKind.Comma))
        {
            _current++;
            items.Add(primary ? ParsePrimary() : ParseExpression());
        }
        return new ArrayNode(items, IsTuple: true, first.Position);
    }

    private Node ParseExpression()
    {
        var value = ParseOr();
        if (IsIdentifier("if"))
        {
            _current++;
            var test = ParseOr();
            if (IsIdentifier("else"))
            {
                _current++;
                var otherwise = ParseExpression();
                return new TernaryNode(test, value, otherwise, value.Position);
            }
            return new SelectNode(value, test, value.Position);
        }
        return value;
    }

    private Node ParseOr()
    {
        var left = ParseAnd();
        while (IsIdentifier("or"))
        {
            _current++;
            left = new BinaryNode("or", left, ParseAnd(), left.Position);
        }
        return left;
    }

    private Node ParseAnd()
    {
        var left = ParseNot();
        while (IsIdentifier("and"))
        {
            _current++;
            left = new BinaryNode("and", left, ParseNot(), left.Position);
        }
        return left;
    }

    private Node ParseNot()
    {
        if (IsIdentifier("not"))
        {
            int position = Peek().Position;
            _current++;
            return new UnaryNode("not", ParseNot(), position);
        }
        return ParseComparison();
    }

    private Node ParseComparison()
    {
        var left = ParseAdditive();
        while (true)
        {
            string op;
            if (IsIdentifier("not", "in"))
            {
                op = "not in";
                _current += 2;
            }
            else if (IsIdentifier("in"))
            {
                op = "in";
                _current++;
            }
            else if (Is(TokenKind.ComparisonOperator))
            {
                op = _tokens[_current++].Value;
            }
            else
            {
                return left;
            }
            left = new BinaryNode(op, left, ParseAdditive(), left.Position);
        }
    }

    private Node ParseAdditive()
    {
        var left = ParseMultiplicative();
        while (Is(TokenKind.AdditiveOperator))
        {
            string op = _tokens[_current++].Value;
            left = new BinaryNode(op, left, ParseMultiplicative(), left.Position);
        }
        return left;
    }

    private Node ParseMultiplicative()
    {
        var left = ParsePower();
        while (Is(TokenKind.MultiplicativeOperator))
        {
            string op = _tokens[_current++].Value;
            left = new BinaryNode(op, left, ParsePower(), left.Position);
        }
        return left;
    }

    private Node ParsePower()
    {
        var left = ParseTest();
        while (Is(TokenKind.ExponentiationOperator))
        {
            _current++;
            left = new BinaryNode("**", left, ParseTest(), left.Position);
        }
        return left;
    }

    private Node ParseTest()
    {
        var operand = ParseFilter();
        while (IsIdentifier("is"))
        {
            _current++;
            bool negate = IsIdentifier("not");
            if (negate)
            {
                _current++;
            }
            var test = Peek();
            if (test.Kind != TokenKind.Identifier)
            {
                throw Error("expected a test name after 'is'", test.Position);
            }
            _current++;
            operand = new TestNode(operand, negate, test.Value, test.Position);
        }
        return operand;
    }

    private Node ParseFilter()
    {
        var operand = ParseUnarySign();
        while (Is(TokenKind.Pipe))
        {
            _current++;
            Node filter = ParsePrimary();
            if (filter is not IdentifierNode)
            {
                throw Error("expected a filter name after '|'", filter.Position);
            }
            if (Is(TokenKind.OpenParen))
            {
                filter = ParseCall(filter);
            }
            operand = new FilterNode(operand, filter, filter.Position);
        }
        return operand;
    }

    private Node ParseUnarySign()
    {
        if (_current < _tokens.Count && _tokens[_current] is { Kind: TokenKind.UnaryOperator or TokenKind.AdditiveOperator, Value: "-" or "+" } token)
        {
            _current++;
            return new UnaryNode(token.Value, ParseUnarySign(), token.Position);
        }
        var member = ParseMember(ParsePrimary());
        return Is(TokenKind.OpenParen) ? ParseCall(member) : member;
    }

    private Node ParseCall(Node callee)
    {
        Node call = new CallNode(callee, ParseArguments(), callee.Position);
        call = ParseMember(call);
        return Is(TokenKind.OpenParen) ? ParseCall(call) : call;
    }

    private List<Node> ParseArguments()
    {
        Expect(TokenKind.OpenParen, "'('");
        var arguments = new List<Node>();
        while (!Is(TokenKind.CloseParen))
        {
            var argument = ParseExpression();
            if (Is(TokenKind.Equals))
            {
                _current++;
                if (argument is not IdentifierNode identifier)
                {
                    throw Error("expected a name before '=' in the argument list", argument.Position);
                }
                argument = new KeywordArgumentNode(identifier.Name, ParseExpression(), argument.Position);
            }
            arguments.Add(argument);
            if (Is(TokenKind.Comma))
            {
                _current++;
            }
            else if (!Is(TokenKind.CloseParen))
            {
                throw Error("expected ',' or ')' in the argument list", Peek().Position);
            }
        }
        _current++;
        return arguments;
    }

    private Node ParseMember(Node target)
    {
        while (Is(TokenKind.Dot) || Is(TokenKind.OpenSquareBracket))
        {
            var op = _tokens[_current++];
            if (op.Kind == TokenKind.OpenSquareBracket)
            {
                var property = ParseSubscript(op.Position);
                Expect(TokenKind.CloseSquareBracket, "']'");
                target = new MemberNode(target, property, Computed: true, op.Position);
            }
            else
            {
                var property = ParsePrimary();
                if (property is not (IdentifierNode or LiteralNode { Value: JinjaNumber }))
                {
                    throw Error("expected a name or an integer after '.'", property.Position);
                }
                target = new MemberNode(target, property, Computed: false, op.Position);
            }
        }
        return target;
    }

    private Node ParseSubscript(int position)
    {
        var parts = new List<Node?>();
        bool isSlice = false;
        while (!Is(TokenKind.CloseSquareBracket))
        {
            if (Is(TokenKind.Colon))
            {
                parts.Add(null);
                _current++;
                isSlice = true;
            }
            else
            {
                parts.Add(ParseExpression());
                if (Is(TokenKind.Colon))
                {
                    _current++;
                    isSlice = true;
                }
            }
        }
        if (parts.Count == 0)
        {
            throw Error("empty subscript", position);
        }
        if (!isSlice)
        {
            return parts[0]!;
        }
        if (parts.Count > 3)
        {
            throw Error("a slice takes at most three parts", position);
        }
        return new SliceNode(parts.ElementAtOrDefault(0), parts.ElementAtOrDefault(1), parts.ElementAtOrDefault(2), position);
    }

    private Node ParsePrimary()
    {
        var token = Peek();
        _current++;
        switch (token.Kind)
        {
            case TokenKind.NumericLiteral:
                double number = double.Parse(token.Value, NumberStyles.Float, CultureInfo.InvariantCulture);
                return new LiteralNode(new JinjaNumber(number, IsInteger: !token.Value.Contains('.')), token.Position);
            case TokenKind.StringLiteral:
                string value = token.Value;
                while (Is(TokenKind.StringLiteral))
                {
                    value += _tokens[_current++].Value;
                }
                return new LiteralNode(new JinjaString(value), token.Position);
            case TokenKind.Identifier:
                return new IdentifierNode(token.Value, token.Position);
            case TokenKind.OpenParen:
                var inner = ParseExpressionSequence(primary: false);
                Expect(TokenKind.CloseParen, "')'");
                return inner;
            case TokenKind.OpenSquareBracket:
                var items = new List<Node>();
                while (!Is(TokenKind.CloseSquareBracket))
                {
                    items.Add(ParseExpression());
                    if (Is(TokenKind.Comma))
                    {
                        _current++;
                    }
                    else if (!Is(TokenKind.CloseSquareBracket))
                    {
                        throw Error("expected ',' or ']' in the list", Peek().Position);
                    }
                }
                _current++;
                return new ArrayNode(items, IsTuple: false, token.Position);
            case TokenKind.OpenCurlyBracket:
                var entries = new List<(Node, Node)>();
                while (!Is(TokenKind.CloseCurlyBracket))
                {
                    var key = ParseExpression();
                    Expect(TokenKind.Colon, "':' in the dict literal");
                    entries.Add((key, ParseExpression()));
                    if (Is(TokenKind.Comma))
                    {
                        _current++;
                    }
                    else if (!Is(TokenKind.CloseCurlyBracket))
                    {
                        throw Error("expected ',' or '}' in the dict literal", Peek().Position);
                    }
                }
                _current++;
                return new ObjectNode(entries, token.Position);
            default:
                throw Error($"unexpected '{token.Value}'", token.Position);
        }
    }
}
