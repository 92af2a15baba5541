namespace OrleansLlm.Tokenizers.ChatTemplates;

/// <summary>A variable scope; lookups walk outwards, assignments stay in this scope (Jinja's rule).</summary>
internal sealed class JinjaEnvironment(JinjaEnvironment? parent)
{
    private readonly Dictionary<string, JinjaValue> _variables = new(StringComparer.Ordinal);

    public JinjaValue Lookup(string name)
    {
        for (var scope = this; scope is not null; scope = scope.Parent)
        {
            if (scope._variables.TryGetValue(name, out var value))
            {
                return value;
            }
        }
        return JinjaUndefined.Instance;
    }

    public JinjaEnvironment? Parent => parent;

    public void Set(string name, JinjaValue value) => _variables[name] = value;
}
