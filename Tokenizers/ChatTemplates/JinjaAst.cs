namespace OrleansLlm.Tokenizers.ChatTemplates;

/// <summary>A node of a parsed template; <see cref="Position"/> is its offset in the preprocessed source.</summary>
internal abstract record Node(int Position);

internal sealed record TextNode(string Value, int Position) : Node(Position);

internal sealed record CommentNode(int Position) : Node(Position);

internal sealed record IfNode(Node Test, List<Node> Body, List<Node> Alternate, int Position) : Node(Position);

internal sealed record ForNode(Node LoopVariable, Node Iterable, Node? Filter, List<Node> Body, List<Node> Else, int Position) : Node(Position);

internal sealed record BreakNode(int Position) : Node(Position);

internal sealed record ContinueNode(int Position) : Node(Position);

internal sealed record SetNode(Node Target, Node? Value, List<Node> Body, int Position) : Node(Position);

internal sealed record MacroNode(string Name, List<Node> Parameters, List<Node> Body, int Position) : Node(Position);

internal sealed record FilterBlockNode(Node Filter, List<Node> Body, int Position) : Node(Position);

internal sealed record IdentifierNode(string Name, int Position) : Node(Position);

internal sealed record LiteralNode(JinjaValue Value, int Position) : Node(Position);

internal sealed record ArrayNode(List<Node> Items, bool IsTuple, int Position) : Node(Position);

internal sealed record ObjectNode(List<(Node Key, Node Value)> Entries, int Position) : Node(Position);

internal sealed record MemberNode(Node Target, Node Property, bool Computed, int Position) : Node(Position);

internal sealed record SliceNode(Node? Start, Node? Stop, Node? Step, int Position) : Node(Position);

internal sealed record CallNode(Node Callee, List<Node> Arguments, int Position) : Node(Position);

internal sealed record KeywordArgumentNode(string Name, Node Value, int Position) : Node(Position);

internal sealed record BinaryNode(string Operator, Node Left, Node Right, int Position) : Node(Position);

internal sealed record UnaryNode(string Operator, Node Operand, int Position) : Node(Position);

internal sealed record FilterNode(Node Operand, Node Filter, int Position) : Node(Position);

internal sealed record TestNode(Node Operand, bool Negate, string Test, int Position) : Node(Position);

internal sealed record SelectNode(Node Value, Node Test, int Position) : Node(Position);

internal sealed record TernaryNode(Node Condition, Node IfTrue, Node IfFalse, int Position) : Node(Position);
