using System.CommandLine;

namespace OrleansLlm.AppHost.Commands;

/// <summary>`bench runtime` (filled in by the grain runtime work).</summary>
internal static class BenchRuntimeCommand
{
    public static IEnumerable<Command> Create() => [];
}
