using System.CommandLine;
using OrleansLlm.Cli.Commands;

namespace OrleansLlm.Cli.Tests;

/// <summary>`orleansllm bench peer` finds the PeerBench executable (it never loads llama.cpp
/// itself) and says clearly what is missing. The benchmark itself runs in tests/PeerBench.Tests.</summary>
public sealed class BenchPeerCommandTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private static (int ExitCode, string Output, string Error) Run(params string[] args)
    {
        var root = new RootCommand { BenchPeerCommand.Create() };
        var output = new StringWriter();
        var error = new StringWriter();
        var exitCode = root.Parse(["peer", .. args]).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (exitCode, output.ToString(), error.ToString());
    }

    [Fact]
    public void A_missing_model_file_is_an_error_naming_it()
    {
        var (exitCode, _, error) = Run("--model", _temp.Sub("none.gguf"));
        Assert.Equal(1, exitCode);
        Assert.Contains("none.gguf does not exist", error);
    }

    [Fact]
    public void The_executable_is_found_in_the_repository_build_output()
    {
        var repo = _temp.Sub("repo");
        var output = Path.Combine(repo, "Benchmarks", "PeerBench", "bin", "Release", "net10.0");
        Directory.CreateDirectory(output);
        File.WriteAllText(Path.Combine(repo, "OrleansLlm.sln"), "");
        var dll = Path.Combine(output, BenchPeerCommand.ExecutableName + ".dll");
        File.WriteAllText(dll, "");
        var cliOutput = Path.Combine(repo, "Cli", "bin", "Release", "net10.0");
        Directory.CreateDirectory(cliOutput);

        Assert.Equal(dll, BenchPeerCommand.FindExecutable(cliOutput, null));
        Assert.Null(BenchPeerCommand.FindExecutable(_temp.Sub("elsewhere"), null));
    }

    [Fact]
    public void The_environment_variable_overrides_the_search_and_must_name_a_file()
    {
        var file = _temp.Sub("peer.dll");
        File.WriteAllText(file, "");
        Assert.Equal(file, BenchPeerCommand.FindExecutable(_temp.Path, file));
        Assert.Null(BenchPeerCommand.FindExecutable(_temp.Path, _temp.Sub("missing.dll")));
    }
}
