using System.Reflection;

namespace OrleansLlm.Cluster.Tests;

/// <summary>Paths the build wrote into this assembly: the test silo's dll (same configuration) and the repository root.</summary>
public static class TestPaths
{
    public static string TestSiloDll => Path.GetFullPath(Metadata("TestSiloDll"));

    public static string RepositoryRoot => Path.GetFullPath(Metadata("RepositoryRoot"));

    /// <summary>A folder under artifacts/ at the repository root, created if missing.</summary>
    public static string ArtifactsDirectory(string name)
    {
        var directory = Path.Combine(RepositoryRoot, "artifacts", name);
        Directory.CreateDirectory(directory);
        return directory;
    }

    /// <summary>Writes a figure file under artifacts/ at the repository root; returns its path.</summary>
    public static string WriteArtifact(string name, string contents)
    {
        var directory = Path.Combine(RepositoryRoot, "artifacts");
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, name);
        File.WriteAllText(path, contents);
        return path;
    }

    private static string Metadata(string key) =>
        typeof(TestPaths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value
        ?? throw new InvalidOperationException($"assembly metadata {key} is empty");
}
