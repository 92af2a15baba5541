using System.CommandLine;
using OrleansLlm.Cli.Commands;

namespace OrleansLlm.Cli.Tests;

public sealed class MakeModelCommandTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private static (int ExitCode, string Output, string Error) Run(params string[] args)
    {
        var root = new RootCommand { MakeModelCommand.Create() };
        var output = new StringWriter();
        var error = new StringWriter();
        int exitCode = root.Parse(["make-model", .. args]).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (exitCode, output.ToString(), error.ToString());
    }

    [Fact]
    public void Makes_a_tiny_model_and_exits_zero()
    {
        string dir = _temp.Sub("m");
        var (exitCode, output, error) = Run("--preset", "tiny", "--arch", "qwen3", "--dtype", "f16", "--seed", "3", "--out", dir);
        Assert.True(exitCode == 0, error);
        Assert.Contains("Qwen3ForCausalLM", output);
        Assert.Contains("100%", error); // progress lines go to stderr when there is no terminal
        Assert.Equal("F16", SafetensorsFile.Read(Path.Combine(dir, "model.safetensors")).Tensors[0].DType);
    }

    [Theory]
    [InlineData("--preset", "huge")]
    [InlineData("--preset", "tiny", "--arch", "gpt2")]
    [InlineData("--preset", "tiny", "--dtype", "int8")]
    [InlineData("--preset", "tiny", "--seed", "-1")]
    [InlineData("--preset", "tiny", "--max-shard-bytes", "0")]
    public void A_bad_argument_exits_non_zero_naming_it(params string[] args)
    {
        string dir = _temp.Sub("m");
        var (exitCode, _, error) = Run([.. args, "--out", dir]);
        Assert.NotEqual(0, exitCode);
        Assert.Contains(args[^1], error);
        Assert.False(Directory.Exists(dir));
    }

    [Fact]
    public void Max_shard_bytes_makes_a_sharded_model()
    {
        string dir = _temp.Sub("m");
        Assert.Equal(0, Run("--preset", "tiny", "--max-shard-bytes", "500000", "--out", dir).ExitCode);
        Assert.True(File.Exists(Path.Combine(dir, "model.safetensors.index.json")));
        Assert.True(Directory.EnumerateFiles(dir, "model-*-of-*.safetensors").Count() > 1);
    }

    [Fact]
    public void An_empty_out_path_exits_non_zero()
    {
        var (exitCode, _, error) = Run("--preset", "tiny", "--out", "");
        Assert.NotEqual(0, exitCode);
        Assert.Contains("--out", error);
    }

    [Fact]
    public void Missing_out_exits_non_zero()
    {
        var (exitCode, _, error) = Run("--preset", "tiny");
        Assert.NotEqual(0, exitCode);
        Assert.Contains("--out", error);
    }

    [Fact]
    public void A_non_empty_out_without_force_exits_one_with_a_message()
    {
        string dir = _temp.Sub("m");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "x.txt"), "x");
        var (exitCode, _, error) = Run("--preset", "tiny", "--out", dir);
        Assert.Equal(1, exitCode);
        Assert.Contains("not empty", error);
        Assert.Contains("--force", error);

        Assert.Equal(0, Run("--preset", "tiny", "--out", dir, "--force").ExitCode);
    }
}
