using System.CommandLine;
using OrleansLlm.Cli.Commands;
using Xunit;

namespace OrleansLlm.Tests.Shared;

/// <summary>Runs `orleansllm make-model` / `convert` in process for tests that need model files
/// (linked into the test projects that reference Cli; not part of the `Shared/*.cs` glob).</summary>
internal static class CliRunner
{
    public static void Run(params string[] args)
    {
        var root = new RootCommand { MakeModelCommand.Create(), ConvertCommand.Create() };
        var error = new StringWriter();
        var exitCode = root.Parse(args).Invoke(new InvocationConfiguration { Output = new StringWriter(), Error = error });
        Assert.True(exitCode == 0, $"{string.Join(' ', args)}: {error}");
    }
}
