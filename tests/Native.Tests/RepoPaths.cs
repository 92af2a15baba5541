namespace OrleansLlm.Native.Tests;

internal static class RepoPaths
{
    /// <summary>The repository root: the first ancestor of the test binaries holding OrleansLlm.sln.</summary>
    public static string Root { get; } = FindRoot();

    public static string Golden(string name) => Path.Combine(Root, "tests", "golden", name);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "OrleansLlm.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("OrleansLlm.sln not found above " + AppContext.BaseDirectory);
    }
}
