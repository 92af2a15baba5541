using System.CommandLine;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using OrleansLlm.Tokenizers;

namespace OrleansLlm.Cli.Commands;

/// <summary>
/// `bench tokenizer`: single-threaded encode throughput of the C# tokenizer against
/// @huggingface/tokenizers (node, same corpus, same run), plus the per-token cost of streaming
/// detokenization. The ~10 MB corpus is built deterministically from the reference corpus texts
/// mixed with generated words, so caches do not see only repeats.
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
        var command = new Command("tokenizer", "Encode throughput against @huggingface/tokenizers and detokenization cost per token (JSON)");
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
        var documents = BuildCorpus(Path.Combine(referenceDir, "corpus", "texts.jsonl"), sizeMb * 1_000_000L);
        long bytes = documents.Sum(d => (long)Encoding.UTF8.GetByteCount(d));
        string corpusPath = Path.Combine(Path.GetTempPath(), $"orleansllm-tokenizer-bench-{Environment.ProcessId}.jsonl");
        await File.WriteAllLinesAsync(corpusPath, documents.Select(d => new JsonObject { ["text"] = d }.ToJsonString()), ct);
        try
        {
            var ids = documents.Select(d => tokenizer.Encode(d, addSpecialTokens: false)).ToList(); // warm-up and the ids to stream
            long tokens = ids.Sum(i => (long)i.Length);
            double best = double.MaxValue;
            for (int r = 0; r < repeat; r++)
            {
                ct.ThrowIfCancellationRequested();
                var clock = Stopwatch.StartNew();
                foreach (string document in documents)
                {
                    tokenizer.Encode(document, addSpecialTokens: false);
                }
                best = Math.Min(best, clock.Elapsed.TotalSeconds);
            }
            double csharpMbPerS = bytes / 1e6 / best;

            var output = new StringBuilder(1 << 16);
            double detokenizeBest = double.MaxValue;
            for (int r = 0; r < repeat; r++)
            {
                var clock = Stopwatch.StartNew();
                foreach (int[] sequence in ids)
                {
                    output.Clear();
                    var detokenizer = tokenizer.CreateDetokenizer();
                    foreach (int id in sequence)
                    {
                        detokenizer.AddTo(id, output);
                    }
                    output.Append(detokenizer.Flush());
                }
                detokenizeBest = Math.Min(detokenizeBest, clock.Elapsed.TotalSeconds);
            }

            var report = new JsonObject
            {
                ["benchmark"] = "tokenizer",
                ["tokenizer"] = tokenizerDir,
                ["single_thread"] = true,
                ["corpus"] = new JsonObject { ["documents"] = documents.Count, ["bytes"] = bytes, ["tokens"] = tokens },
                ["csharp"] = new JsonObject { ["seconds"] = best, ["mb_per_s"] = csharpMbPerS, ["tokens"] = tokens },
                ["detokenize"] = new JsonObject { ["tokens"] = tokens, ["ns_per_token"] = detokenizeBest * 1e9 / Math.Max(1, tokens) },
            };
            if (runNode)
            {
                var js = await RunNodeAsync(referenceDir, tokenizerDir, corpusPath, repeat, ct);
                report["javascript"] = js;
                if (js["mb_per_s"]?.GetValue<double>() is double jsMbPerS && jsMbPerS > 0)
                {
                    report["speedup"] = csharpMbPerS / jsMbPerS;
                    report["tokens_match"] = js["tokens"]?.GetValue<long>() == tokens;
                }
            }
            return report;
        }
        finally
        {
            File.Delete(corpusPath);
        }
    }

    private static async Task<JsonNode> RunNodeAsync(string referenceDir, string tokenizerDir, string corpusPath, int repeat, CancellationToken ct)
    {
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = referenceDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string arg in new[] { "bench.mjs", "--tokenizer", tokenizerDir, "--corpus", corpusPath, "--repeat", repeat.ToString(System.Globalization.CultureInfo.InvariantCulture) })
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

    /// <summary>Documents of about 4 KB: reference corpus texts interleaved with generated words, seeded.</summary>
    private static List<string> BuildCorpus(string textsPath, long targetBytes)
    {
        var texts = File.ReadAllLines(textsPath).Where(l => l.Length > 0)
            .Select(l => JsonNode.Parse(l)!["text"]!.GetValue<string>()).ToArray();
        string[] syllables = ["ka", "lo", "mi", "ne", "tor", "van", "si", "qu", "bel", "dra", "ex", "po", "ru", "zen", "ath", "ing", "ion", "ur"];
        var random = new Random(20261122);
        var documents = new List<string>();
        long total = 0;
        var sb = new StringBuilder();
        while (total < targetBytes)
        {
            sb.Clear();
            while (sb.Length < 4000)
            {
                if (random.NextDouble() < 0.6)
                {
                    sb.Append(texts[random.Next(texts.Length)]);
                }
                else
                {
                    int words = random.Next(5, 40);
                    for (int w = 0; w < words; w++)
                    {
                        int parts = random.Next(1, 4);
                        for (int p = 0; p < parts; p++)
                        {
                            sb.Append(syllables[random.Next(syllables.Length)]);
                        }
                        sb.Append(random.Next(10) == 0 ? ", " : " ");
                    }
                    sb.Append(random.Next(1000)).Append(". ");
                }
                sb.Append(random.Next(4) == 0 ? "\n" : " ");
            }
            string document = sb.ToString();
            documents.Add(document);
            total += Encoding.UTF8.GetByteCount(document);
        }
        return documents;
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
