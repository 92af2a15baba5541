namespace OrleansLlm.Platform.Tests;

/// <summary>The configuration this assembly was built in, so the fixture runs the platform's dlls of the same one.</summary>
[AttributeUsage(AttributeTargets.Assembly)]
public sealed class BuildConfigurationAttribute(string configuration) : Attribute
{
    public string Configuration { get; } = configuration;
}
