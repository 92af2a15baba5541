using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using OrleansLlm.Native;
using OrleansLlm.Tokenizers;

namespace OrleansLlm.Cli.Commands;

/// <summary>
/// `orleansllm generate`: one prompt through the serving path: the native engine samples
/// (<see cref="NativeEngine.GenerateAsync"/>) and <see cref="IncrementalDetokenizer"/> streams the
/// text, so what this prints is what a served request would get.
/// </summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Model directory (config.json, *.safetensors, tokenizer.json) or .gguf file", Required = true };
        var prompt = new Option<string>("--prompt") { Description = "Prompt text", Required = true };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Tokens to generate at most", DefaultValueFactory = _ => 64 };
        var temperature = new Option<float>("--temperature") { Description = "0 = greedy", DefaultValueFactory = _ => 0f };
        var seed = new Option<ulong>("--seed") { Description = "Sampling seed", DefaultValueFactory = _ => 0UL };
        var threads = new Option<int>("--threads") { Description = "CPU threads (0 = all cores)", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object with token ids and timings" };
        var weights = WeightsOption.Create();
        var backend = new Option<string>("--backend") { Description = "cpu | cuda", DefaultValueFactory = _ => "cpu" };
        var device = new Option<int>("--device") { Description = "CUDA device index (--backend cuda)", DefaultValueFactory = _ => 0 };
        var kvCacheDtype = KvCacheDtypeOption.Create();

        var command = new Command("generate", "Generate text for one prompt with the native engine");
        foreach (var option in new Option[] { model, prompt, maxTokens, temperature, seed, threads, json, weights, backend, device, kvCacheDtype })
        {
            command.Options.Add(option);
        }
        command.SetAction((ParseResult r, CancellationToken ct) => RunAsync(new GenerateRequest(
            r.GetValue(model)!, r.GetValue(prompt)!, r.GetValue(maxTokens), r.GetValue(temperature), r.GetValue(seed),
            r.GetValue(threads), r.GetValue(json), WeightsOption.Value(r, weights), r.GetValue(backend)!, r.GetValue(device),
            KvCacheDtypeOption.Value(r, kvCacheDtype)), r.InvocationConfiguration.Output, r.InvocationConfiguration.Error, ct));
        return command;
    }

    private static async Task<int> RunAsync(GenerateRequest request, TextWriter output, TextWriter error, CancellationToken ct)
    {
        if (request.MaxTokens < 1 || request.Temperature < 0 || request.Threads < 0)
        {
            await error.WriteLineAsync("error: --max-tokens must be >= 1, --temperature >= 0 and --threads >= 0");
            return 2;
        }
        if (request.Backend is not ("cpu" or "cuda") || request.Device < 0)
        {
            await error.WriteLineAsync("error: --backend must be cpu or cuda, and --device >= 0");
            return 2;
        }
        try
        {
            using var model = NativeModel.Load(request.ModelDir, request.Threads, weights: request.Weights, kvCache: request.KvCache);
            var tokenizer = HfTokenizer.Load(request.ModelDir);
            var promptIds = tokenizer.Encode(request.Prompt, addSpecialTokens: true);
            if (promptIds.Length == 0)
            {
                await error.WriteLineAsync("error: the prompt encodes to no tokens");
                return 2;
            }
            var maxModelLength = Math.Min(model.Description.MaxPositionEmbeddings, promptIds.Length + request.MaxTokens);
            if (promptIds.Length >= maxModelLength)
            {
                await error.WriteLineAsync($"error: the prompt has {promptIds.Length} tokens; the model's context is {model.Description.MaxPositionEmbeddings}");
                return 2;
            }
            var engineOptions = OneSequence(model, maxModelLength) with
            {
                Backend = request.Backend == "cuda" ? EngineBackend.Cuda : EngineBackend.Cpu,
                DeviceIndex = request.Device,
            };
            using var engine = new NativeEngine(model, engineOptions);
            var sampling = new SamplingOptions
            {
                Temperature = request.Temperature,
                MaxTokens = request.MaxTokens,
                Seed = unchecked((long)request.Seed) & long.MaxValue,  // the native seed is >= 0
            };
            var eos = model.Description.EosTokenIds.ToHashSet();
            var detokenizer = tokenizer.CreateDetokenizer(skipSpecialTokens: true);
            var tokens = new List<int>();
            var text = new System.Text.StringBuilder();
            var finishReason = "length";

            var clock = Stopwatch.StartNew();
            TimeSpan firstToken = TimeSpan.Zero;
            try
            {
                await foreach (var token in engine.GenerateAsync(promptIds, sampling, cancellationToken: ct))
                {
                    if (tokens.Count == 0 && firstToken == TimeSpan.Zero)
                    {
                        firstToken = clock.Elapsed;
                    }
                    if (token.FinishReason == FinishReason.Stop && eos.Contains(token.TokenId))
                    {
                        // The engine reports the eos it sampled; the command never printed it.
                        finishReason = "stop";
                        break;
                    }
                    tokens.Add(token.TokenId);
                    var appended = detokenizer.AddTo(token.TokenId, text);
                    if (!request.Json && appended > 0)
                    {
                        await output.WriteAsync(text.ToString(text.Length - appended, appended));
                    }
                    if (token.FinishReason is { } reason)
                    {
                        finishReason = reason == FinishReason.Stop ? "stop" : "length";
                    }
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                finishReason = "abort";
            }
            var decode = clock.Elapsed - firstToken;
            var tail = detokenizer.Flush();
            text.Append(tail);
            if (request.Json)
            {
                var result = new GenerateResult(promptIds, tokens, text.ToString(), finishReason,
                    firstToken > TimeSpan.Zero ? promptIds.Length / firstToken.TotalSeconds : 0,
                    tokens.Count > 1 ? (tokens.Count - 1) / decode.TotalSeconds : 0);
                await output.WriteLineAsync(JsonSerializer.Serialize(result, CliJson.Default.GenerateResult));
            }
            else
            {
                await output.WriteLineAsync(tail);
            }
            return 0;
        }
        catch (NativeException ex)
        {
            await error.WriteLineAsync($"error: {ex.Message}");
            return 1;
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or FormatException or NotSupportedException or JsonException)
        {
            await error.WriteLineAsync($"error: {ex.Message}");
            return 1;
        }
    }

    // One sequence: a KV budget for exactly its tokens (plus a block) instead of the engine's
    // default gigabyte, and its length as the engine's context limit (KvBytesPerToken is of the
    // KV cache type the model was loaded with).
    private static EngineOptions OneSequence(NativeModel model, int maxModelLength)
    {
        var options = new EngineOptions { MaxModelLength = maxModelLength, MaxRunningRequests = 1 };
        var blocks = (maxModelLength + options.BlockSizeTokens - 1) / options.BlockSizeTokens + 1;
        return options with { KvCacheBytes = (long)blocks * options.BlockSizeTokens * model.Description.KvBytesPerToken };
    }

    private sealed record GenerateRequest(string ModelDir, string Prompt, int MaxTokens, float Temperature, ulong Seed, int Threads, bool Json,
        WeightQuantization Weights, string Backend, int Device, KvCacheType KvCache);
}

internal sealed record GenerateResult(
    IReadOnlyList<int> PromptTokens,
    IReadOnlyList<int> Tokens,
    string Text,
    string FinishReason,
    double PrefillTokensPerS,
    double DecodeTokensPerS);
