using System.Diagnostics;
using Spectre.Console;

namespace OrleansLlm.Cli.Commands;

/// <summary>Progress of a long write (make-model, convert): a bar on a terminal, otherwise lines on stderr.</summary>
internal static class WriteProgress
{
    public static Task ShowAsync(Task work, string command, string label, long totalBytes, Func<long> written, TextWriter error, bool interactive) =>
        interactive
            ? ShowProgressBarAsync(work, label, totalBytes, written)
            : WriteProgressLinesAsync(work, command, label, totalBytes, written, error);

    private static Task ShowProgressBarAsync(Task work, string label, long totalBytes, Func<long> written) =>
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(
                new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(),
                new DownloadedColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask(label, maxValue: totalBytes);
                while (!work.IsCompleted)
                {
                    task.Value = written();
                    await Task.WhenAny(work, Task.Delay(100));
                }
                task.Value = written();
            });

    /// <summary>Without a terminal: a line on stderr at every tenth of the bytes, or every 5 s.</summary>
    private static async Task WriteProgressLinesAsync(Task work, string command, string label, long totalBytes, Func<long> written, TextWriter error)
    {
        var stopwatch = Stopwatch.StartNew();
        int lastTenth = -1;
        long lastBytes = -1;
        var lastLine = TimeSpan.Zero;
        while (true)
        {
            long bytes = written();
            int tenth = (int)(bytes * 10 / Math.Max(1, totalBytes));
            bool done = work.IsCompleted;
            bool due = tenth > lastTenth || stopwatch.Elapsed - lastLine > TimeSpan.FromSeconds(5) || done;
            if (due && bytes != lastBytes)
            {
                if (!done || work.IsCompletedSuccessfully)
                {
                    error.WriteLine($"{command}: {label}: {bytes / 1048576.0:F1} / {totalBytes / 1048576.0:F1} MiB ({100.0 * bytes / Math.Max(1, totalBytes):F0}%)");
                }
                lastTenth = tenth;
                lastBytes = bytes;
                lastLine = stopwatch.Elapsed;
            }
            if (done)
            {
                return;
            }
            await Task.WhenAny(work, Task.Delay(200));
        }
    }
}
