namespace OrleansLlm.Runtime;

/// <summary>Identity of a grain: its interface type name and its string key.</summary>
public readonly record struct GrainId(string Type, string Key)
{
    public override string ToString() => $"{Type}/{Key}";
}
