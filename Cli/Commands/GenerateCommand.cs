using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using OrleansLlm.Native;
using OrleansLlm.Tokenizers;

namespace OrleansLlm.Cli.Commands;

/// <summary>`orleansllm generate`: one sequence, greedy or sampled, on the native engine.</summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Model directory (config.json, *.safetensors, tokenizer.json)", Required = true };
        var prompt = new Option<string>("--prompt") { Description = "Prompt text", Required = true };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Tokens to generate at most", DefaultValueFactory = _ => 64 };
        var temperature = new Option<float>("--temperature") { Description = "0 = greedy", DefaultValueFactory = _ => 0f };
        var seed = new Option<ulong>("--seed") { Description = "Sampling seed", DefaultValueFactory = _ => 0UL };
        var threads = new Option<int>("--threads") { Description = "CPU threads (0 = all cores)", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object with token ids and timings" };

        var command = new Command("generate", "Generate text for one prompt with the native engine");
        foreach (var option in new Option[] { model, prompt, maxTokens, temperature, seed, threads, json })
        {
            command.Options.Add(option);
        }
        command.SetAction((ParseResult r, CancellationToken ct) => Task.FromResult(Run(
            r.GetValue(model)!, r.GetValue(prompt)!, r.GetValue(maxTokens), r.GetValue(temperature), r.GetValue(seed),
            r.GetValue(threads), r.GetValue(json), ct)));
        return command;
    }

    private static int Run(string modelDir, string prompt, int maxTokens, float temperature, ulong seed, int threads, bool json, CancellationToken ct)
    {
        if (maxTokens < 1 || temperature < 0 || threads < 0)
        {
            Console.Error.WriteLine("error: --max-tokens must be >= 1, --temperature >= 0 and --threads >= 0");
            return 2;
        }
        try
        {
            using var model = NativeModel.Load(modelDir, threads);
            var tokenizer = HfTokenizer.Load(modelDir);
            var promptIds = tokenizer.Encode(prompt, addSpecialTokens: true);
            if (promptIds.Length == 0)
            {
                Console.Error.WriteLine("error: the prompt encodes to no tokens");
                return 2;
            }
            var contextTokens = Math.Min(model.Description.MaxPositionEmbeddings, promptIds.Length + maxTokens);
            if (promptIds.Length >= contextTokens)
            {
                Console.Error.WriteLine($"error: the prompt has {promptIds.Length} tokens; the model's context is {model.Description.MaxPositionEmbeddings}");
                return 2;
            }
            using var context = model.CreateContext(contextTokens);
            var sampler = new SimpleSampler(temperature, seed);
            var eos = model.Description.EosTokenIds.ToHashSet();
            var output = new List<int>();
            var printed = 0;

            var prefill = Stopwatch.StartNew();
            var logits = context.Eval(promptIds);
            prefill.Stop();
            var decode = Stopwatch.StartNew();
            var finishReason = "length";
            while (output.Count < maxTokens && context.TokenCount < contextTokens && !ct.IsCancellationRequested)
            {
                var token = sampler.Sample(logits);
                if (eos.Contains(token))
                {
                    finishReason = "stop";
                    break;
                }
                output.Add(token);
                if (!json)
                {
                    printed = PrintNewText(tokenizer, output, printed);
                }
                if (output.Count < maxTokens)
                {
                    logits = context.Eval([token]);
                }
            }
            decode.Stop();
            var text = tokenizer.Decode(output.ToArray(), skipSpecialTokens: true);
            if (json)
            {
                var result = new GenerateResult(promptIds, output, text, finishReason,
                    promptIds.Length / prefill.Elapsed.TotalSeconds,
                    output.Count > 1 ? (output.Count - 1) / decode.Elapsed.TotalSeconds : 0);
                Console.WriteLine(JsonSerializer.Serialize(result, CliJson.Default.GenerateResult));
            }
            else
            {
                Console.Write(text[Math.Min(printed, text.Length)..]);
                Console.WriteLine();
            }
            return 0;
        }
        catch (NativeException ex)
        {
            Console.Error.WriteLine($"error: {ex.Message}");
            return 1;
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or FormatException or NotSupportedException or JsonException)
        {
            Console.Error.WriteLine($"error: {ex.Message}");
            return 1;
        }
    }

    // Streams the decoded text, holding back a trailing replacement character (an incomplete
    // UTF-8 sequence that the next token completes).
    private static int PrintNewText(HfTokenizer tokenizer, List<int> output, int printed)
    {
        var text = tokenizer.Decode(output.ToArray(), skipSpecialTokens: true);
        var stable = text.EndsWith('\uFFFD') ? text.TrimEnd('\uFFFD').Length : text.Length;
        if (stable > printed)
        {
            Console.Write(text[printed..stable]);
            return stable;
        }
        return printed;
    }
}

internal sealed record GenerateResult(
    IReadOnlyList<int> PromptTokens,
    IReadOnlyList<int> Tokens,
    string Text,
    string FinishReason,
    double PrefillTokensPerS,
    double DecodeTokensPerS);
