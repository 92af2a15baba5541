using System.CommandLine;

namespace OrleansLlm.Cli.Commands;

/// <summary>`orleansllm bench &lt;target&gt;`: benchmarks that print one JSON object.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var bench = new Command("bench", "Run a benchmark and print its figures as JSON");
        bench.Subcommands.Add(BenchEngineCommand.Create());
        bench.Subcommands.Add(BenchTokenizerCommand.Create());
        bench.Subcommands.Add(BenchClusterCommand.Create());
        bench.Subcommands.Add(BenchServeCommand.Create());
        bench.Subcommands.Add(BenchPeerCommand.Create());
        return bench;
    }
}
