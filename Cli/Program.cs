using System.CommandLine;
using OrleansLlm.Cli.Commands;

var root = new RootCommand("orleansllm: large language models served as grains");
root.Subcommands.Add(ServeCommand.Create());
root.Subcommands.Add(MakeModelCommand.Create());
root.Subcommands.Add(ConvertCommand.Create());
root.Subcommands.Add(GenerateCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
foreach (var command in TokenizerCommands.Create())
{
    root.Subcommands.Add(command);
}

return await root.Parse(args).InvokeAsync();
