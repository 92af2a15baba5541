using System.CommandLine;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using OrleansLlm.Tokenizers;

namespace OrleansLlm.Cli.Commands;

/// <summary>
/// `bench tokenizer`: single-threaded encode throughput of the C# tokenizer against two peers on
/// the same documents in the same run: @huggingface/tokenizers (node, the reference semantics) and
/// Microsoft.ML.Tokenizers' TiktokenTokenizer built from the same vocabulary (byte-level BPE only).
/// Two corpora (<see cref="TokenizerBenchCorpora"/>): natural text, and repetitive text (runs of
/// one letter, "ab"-style repeats, digit and whitespace runs) that stresses the merge loop. Every
/// document's ids are compared with each peer's, so a speed is only reported beside whether the
/// output was identical. Also the per-token cost of streaming detokenization.
/// </summary>
internal static class BenchTokenizerCommand
{
    public static Command Create()
    {
        var tokenizerOption = new Option<string>("--tokenizer") { Description = "Folder with tokenizer.json and tokenizer_config.json", Required = true };
        var referenceOption = new Option<string?>("--reference-dir") { Description = "tests/tokenizer-reference (default: found above the current folder)" };
        var sizeOption = new Option<int>("--size-mb") { Description = "Corpus size in MB", DefaultValueFactory = _ => 10 };
        var repeatOption = new Option<int>("--repeat") { Description = "Timed passes (the best counts)", DefaultValueFactory = _ => 3 };
        var noNodeOption = new Option<bool>("--no-node") { Description = "Skip the JavaScript reference" };
        var command = new Command("tokenizer", "Encode throughput against @huggingface/tokenizers and Microsoft.ML.Tokenizers on a natural and a repetitive corpus, ids checked identical, and detokenization cost per token (JSON)");
        command.Options.Add(tokenizerOption);
        command.Options.Add(referenceOption);
        command.Options.Add(sizeOption);
        command.Options.Add(repeatOption);
        command.Options.Add(noNodeOption);
        command.SetAction(async (ParseResult result, CancellationToken ct) =>
        {
            string tokenizerDir = Path.GetFullPath(result.GetValue(tokenizerOption)!);
            string? referenceDir = result.GetValue(referenceOption) ?? FindReferenceDir();
            if (referenceDir is null)
            {
                await Console.Error.WriteLineAsync("bench tokenizer: cannot find tests/tokenizer-reference; pass --reference-dir");
                return 2;
            }
            var report = await RunAsync(tokenizerDir, Path.GetFullPath(referenceDir), result.GetValue(sizeOption), Math.Max(1, result.GetValue(repeatOption)), !result.GetValue(noNodeOption), ct);
            Console.WriteLine(report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        });
        return command;
    }

    private static async Task<JsonObject> RunAsync(string tokenizerDir, string referenceDir, int sizeMb, int repeat, bool runNode, CancellationToken ct)
    {
        var tokenizer = HfTokenizer.Load(tokenizerDir);
        var (mlTokenizer, mlReason) = MlTokenizersPeer.TryCreate(tokenizerDir);
        var corpora = new (string Name, List<string> Documents)[]
        {
            ("natural", TokenizerBenchCorpora.Natural(Path.Combine(referenceDir, "corpus", "texts.jsonl"), sizeMb * 1_000_000L)),
            ("repetitive", TokenizerBenchCorpora.Repetitive(sizeMb * 1_000_000L)),
        };
        var report = new JsonObject
        {
            ["benchmark"] = "tokenizer",
            ["tokenizer"] = tokenizerDir,
            ["single_thread"] = true,
            ["cpu"] = CpuName(),
            ["ml_tokenizers"] = mlTokenizer is null ? $"not run: {mlReason}" : "Microsoft.ML.Tokenizers 3.0.0 TiktokenTokenizer from the same vocabulary",
        };
        List<int[]>? naturalIds = null;
        bool allExact = true;
        foreach (var (name, documents) in corpora)
        {
            long bytes = documents.Sum(d => (long)Encoding.UTF8.GetByteCount(d));
            var ids = documents.Select(d => tokenizer.Encode(d, addSpecialTokens: false)).ToList(); // warm-up and the ids to compare
            naturalIds ??= ids;
            long tokens = ids.Sum(i => (long)i.Length);
            double ours = Time(repeat, ct, () =>
            {
                foreach (string document in documents)
                {
                    tokenizer.Encode(document, addSpecialTokens: false);
                }
            });
            var corpus = new JsonObject
            {
                ["documents"] = documents.Count,
                ["bytes"] = bytes,
                ["tokens"] = tokens,
                ["csharp"] = new JsonObject { ["seconds"] = ours, ["mb_per_s"] = bytes / 1e6 / ours },
            };
            if (mlTokenizer is not null)
            {
                var mlIds = documents.Select(d => mlTokenizer.EncodeToIds(d).ToArray()).ToList();
                double ml = Time(repeat, ct, () =>
                {
                    foreach (string document in documents)
                    {
                        mlTokenizer.EncodeToIds(document);
                    }
                });
                int differing = Differing(ids, mlIds);
                corpus["ml_tokenizers"] = new JsonObject
                {
                    ["seconds"] = ml,
                    ["mb_per_s"] = bytes / 1e6 / ml,
                    ["tokens"] = mlIds.Sum(i => (long)i.Length),
                    ["documents_with_different_ids"] = differing,
                };
                corpus["speedup_vs_ml_tokenizers"] = ml / ours;
            }
            if (runNode)
            {
                string corpusPath = Path.Combine(Path.GetTempPath(), $"orleansllm-tokenizer-bench-{Environment.ProcessId}-{name}.jsonl");
                string idsPath = corpusPath + ".ids";
                try
                {
                    await File.WriteAllLinesAsync(corpusPath, documents.Select(d => new JsonObject { ["text"] = d }.ToJsonString()), ct);
                    var js = await RunNodeAsync(referenceDir, tokenizerDir, corpusPath, idsPath, repeat, ct);
                    if (js["mb_per_s"]?.GetValue<double>() is double jsMbPerS && jsMbPerS > 0 && File.Exists(idsPath))
                    {
                        var jsIds = File.ReadLines(idsPath).Where(l => l.Length > 0)
                            .Select(l => JsonSerializer.Deserialize<int[]>(l)!).ToList();
                        int differing = Differing(ids, jsIds);
                        js["documents_with_different_ids"] = differing;
                        corpus["ids_identical_to_reference"] = differing == 0;
                        corpus["speedup_vs_javascript"] = bytes / 1e6 / ours / jsMbPerS;
                        allExact &= differing == 0;
                    }
                    else
                    {
                        allExact = false;
                    }
                    corpus["javascript"] = js;
                }
                finally
                {
                    File.Delete(corpusPath);
                    File.Delete(idsPath);
                }
            }
            report[name] = corpus;
        }
        if (runNode)
        {
            report["ids_identical_to_reference"] = allExact;
        }

        long naturalTokens = naturalIds!.Sum(i => (long)i.Length);
        var output = new StringBuilder(1 << 16);
        double detokenize = Time(repeat, ct, () =>
        {
            foreach (int[] sequence in naturalIds!)
            {
                output.Clear();
                var detokenizer = tokenizer.CreateDetokenizer();
                foreach (int id in sequence)
                {
                    detokenizer.AddTo(id, output);
                }
                output.Append(detokenizer.Flush());
            }
        });
        report["detokenize"] = new JsonObject { ["corpus"] = "natural", ["tokens"] = naturalTokens, ["ns_per_token"] = detokenize * 1e9 / Math.Max(1, naturalTokens) };
        return report;
    }

    /// <summary>Best wall time of <paramref name="repeat"/> runs, in seconds.</summary>
    private static double Time(int repeat, CancellationToken ct, Action run)
    {
        double best = double.MaxValue;
        for (int r = 0; r < repeat; r++)
        {
            ct.ThrowIfCancellationRequested();
            var clock = Stopwatch.StartNew();
            run();
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return best;
    }

    private static int Differing(List<int[]> ours, List<int[]> theirs) =>
        ours.Count != theirs.Count ? ours.Count : ours.Zip(theirs).Count(p => !p.First.AsSpan().SequenceEqual(p.Second));

    private static string CpuName()
    {
        try
        {
            var info = File.ReadAllLines("/proc/cpuinfo");
            string model = info.FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";
            bool avx512 = info.Any(l => l.StartsWith("flags", StringComparison.Ordinal) && l.Contains(" avx512f", StringComparison.Ordinal));
            return $"{model}{(avx512 ? " (avx512f)" : " (no avx512)")}";
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    private static async Task<JsonNode> RunNodeAsync(string referenceDir, string tokenizerDir, string corpusPath, string idsPath, int repeat, CancellationToken ct)
    {
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = referenceDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string arg in new[] { "bench.mjs", "--tokenizer", tokenizerDir, "--corpus", corpusPath, "--repeat", repeat.ToString(System.Globalization.CultureInfo.InvariantCulture), "--ids-out", idsPath })
        {
            start.ArgumentList.Add(arg);
        }
        try
        {
            using var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
            var stdout = process.StandardOutput.ReadToEndAsync(ct);
            var stderr = process.StandardError.ReadToEndAsync(ct);
            await process.WaitForExitAsync(ct);
            if (process.ExitCode != 0)
            {
                return new JsonObject { ["error"] = $"node exited with {process.ExitCode}: {(await stderr).Trim()}" };
            }
            return JsonNode.Parse(await stdout) ?? new JsonObject { ["error"] = "node printed nothing" };
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return new JsonObject { ["error"] = $"cannot run node: {e.Message}" };
        }
    }

    private static string? FindReferenceDir()
    {
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "tests", "tokenizer-reference");
                if (File.Exists(Path.Combine(candidate, "bench.mjs")))
                {
                    return candidate;
                }
            }
        }
        return null;
    }
}
