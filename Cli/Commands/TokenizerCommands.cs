using System.CommandLine;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using OrleansLlm.Tokenizers;

namespace OrleansLlm.Cli.Commands;

/// <summary>
/// `tokenize`, `detokenize`, `chat-template`: the tokenizer library on the command line. With
/// --jsonl each reads JSON lines on stdin and writes one JSON line per input line, in order; a
/// bad line gets {"error": ...} and the stream goes on.
/// </summary>
internal static class TokenizerCommands
{
    private static readonly JsonSerializerOptions s_json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static IEnumerable<Command> Create() => [Tokenize(), Detokenize(), ChatTemplateCommand()];

    private static Option<string> TokenizerOption() =>
        new("--tokenizer") { Description = "Folder holding tokenizer.json and tokenizer_config.json", Required = true };

    private static Option<bool> JsonlOption() =>
        new("--jsonl") { Description = "Read JSON lines on stdin, write one JSON line per input line" };

    private static Command Tokenize()
    {
        var tokenizerOption = TokenizerOption();
        var jsonlOption = JsonlOption();
        var textOption = new Option<string?>("--text") { Description = "Text to encode (default: all of stdin)" };
        var noSpecialOption = new Option<bool>("--no-special-tokens") { Description = "Do not add BOS/EOS (the default for --jsonl lines is add_special_tokens: true)" };
        var command = new Command("tokenize", "Encode text to token ids: in {\"text\", \"add_special_tokens\"}, out {\"ids\"}");
        command.Options.Add(tokenizerOption);
        command.Options.Add(jsonlOption);
        command.Options.Add(textOption);
        command.Options.Add(noSpecialOption);
        command.SetAction(async (ParseResult result, CancellationToken ct) =>
        {
            var tokenizer = Load(result.GetValue(tokenizerOption)!);
            if (tokenizer is null)
            {
                return 1;
            }
            if (result.GetValue(jsonlOption))
            {
                await ProcessLinesAsync(line =>
                {
                    string text = line["text"]?.GetValue<string>() ?? throw new FormatException("missing \"text\"");
                    bool addSpecial = line["add_special_tokens"]?.GetValue<bool>() ?? true;
                    return new JsonObject { ["ids"] = new JsonArray(tokenizer.Encode(text, addSpecial).Select(i => (JsonNode)i).ToArray()) };
                }, ct);
                return 0;
            }
            string input = result.GetValue(textOption) ?? await Console.In.ReadToEndAsync(ct);
            int[] ids = tokenizer.Encode(input, !result.GetValue(noSpecialOption));
            Console.WriteLine("[" + string.Join(",", ids) + "]");
            return 0;
        });
        return command;
    }

    private static Command Detokenize()
    {
        var tokenizerOption = TokenizerOption();
        var jsonlOption = JsonlOption();
        var idsOption = new Option<string?>("--ids") { Description = "Ids as a JSON array or comma-separated (default: a JSON array on stdin)" };
        var skipOption = new Option<bool>("--skip-special-tokens") { Description = "Drop special tokens from the text" };
        var command = new Command("detokenize", "Decode token ids to text: in {\"ids\", \"skip_special_tokens\"}, out {\"text\"}");
        command.Options.Add(tokenizerOption);
        command.Options.Add(jsonlOption);
        command.Options.Add(idsOption);
        command.Options.Add(skipOption);
        command.SetAction(async (ParseResult result, CancellationToken ct) =>
        {
            var tokenizer = Load(result.GetValue(tokenizerOption)!);
            if (tokenizer is null)
            {
                return 1;
            }
            if (result.GetValue(jsonlOption))
            {
                await ProcessLinesAsync(line =>
                {
                    var ids = line["ids"]?.AsArray().Select(i => i!.GetValue<int>()).ToArray() ?? throw new FormatException("missing \"ids\"");
                    bool skip = line["skip_special_tokens"]?.GetValue<bool>() ?? false;
                    return new JsonObject { ["text"] = tokenizer.Decode(ids, skip) };
                }, ct);
                return 0;
            }
            string input = (result.GetValue(idsOption) ?? await Console.In.ReadToEndAsync(ct)).Trim();
            int[] parsed;
            try
            {
                parsed = input.StartsWith('[')
                    ? JsonNode.Parse(input)!.AsArray().Select(i => i!.GetValue<int>()).ToArray()
                    : input.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(int.Parse).ToArray();
                Console.Write(tokenizer.Decode(parsed, result.GetValue(skipOption)));
            }
            catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or ArgumentOutOfRangeException)
            {
                await Console.Error.WriteLineAsync($"detokenize: {e.Message}");
                return 1;
            }
            return 0;
        });
        return command;
    }

    private static Command ChatTemplateCommand()
    {
        var tokenizerOption = TokenizerOption();
        var jsonlOption = JsonlOption();
        var noPromptOption = new Option<bool>("--no-generation-prompt") { Description = "Do not end with the assistant prompt" };
        var command = new Command("chat-template",
            "Render the chat template: in {\"messages\", \"add_generation_prompt\", \"tools\"?, \"documents\"?, ...}, out {\"text\"} or {\"error\"}");
        command.Options.Add(tokenizerOption);
        command.Options.Add(jsonlOption);
        command.Options.Add(noPromptOption);
        command.SetAction(async (ParseResult result, CancellationToken ct) =>
        {
            var tokenizer = Load(result.GetValue(tokenizerOption)!);
            if (tokenizer is null)
            {
                return 1;
            }
            if (result.GetValue(jsonlOption))
            {
                await ProcessLinesAsync(line => new JsonObject { ["text"] = Render(tokenizer, line, true) }, ct);
                return 0;
            }
            try
            {
                var input = JsonNode.Parse(await Console.In.ReadToEndAsync(ct));
                var request = input is JsonArray messages ? new JsonObject { ["messages"] = messages } : input?.AsObject()
                    ?? throw new FormatException("expected a JSON array of messages or an object with \"messages\"");
                Console.Write(Render(tokenizer, request, !result.GetValue(noPromptOption)));
            }
            catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or TokenizerException)
            {
                await Console.Error.WriteLineAsync($"chat-template: {e.Message}");
                return 1;
            }
            return 0;
        });
        return command;
    }

    private static string Render(HfTokenizer tokenizer, JsonObject request, bool defaultGenerationPrompt)
    {
        var messages = request["messages"]?.DeepClone().AsArray() ?? throw new FormatException("missing \"messages\"");
        bool addGenerationPrompt = request["add_generation_prompt"]?.GetValue<bool>() ?? defaultGenerationPrompt;
        var variables = new Dictionary<string, JsonNode?>();
        foreach (var (key, value) in request)
        {
            if (key is not ("messages" or "add_generation_prompt" or "tools" or "documents"))
            {
                variables[key] = value?.DeepClone();
            }
        }
        var options = new ChatTemplateOptions
        {
            Tools = request["tools"]?.DeepClone().AsArray(),
            Documents = request["documents"]?.DeepClone().AsArray(),
            Variables = variables,
        };
        return tokenizer.ApplyChatTemplate(messages, addGenerationPrompt, options);
    }

    private static HfTokenizer? Load(string directory)
    {
        try
        {
            return HfTokenizer.Load(directory);
        }
        catch (TokenizerException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return null;
        }
    }

    private static async Task ProcessLinesAsync(Func<JsonObject, JsonObject> handle, CancellationToken ct)
    {
        await using var stdout = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false));
        using var stdin = new StreamReader(Console.OpenStandardInput(), Encoding.UTF8);
        while (await stdin.ReadLineAsync(ct) is { } line)
        {
            if (line.Trim().Length == 0)
            {
                continue;
            }
            JsonObject output;
            try
            {
                var input = JsonNode.Parse(line) as JsonObject ?? throw new FormatException("each line must be a JSON object");
                output = handle(input);
            }
            catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException
                or TokenizerException or ArgumentOutOfRangeException or KeyNotFoundException)
            {
                output = new JsonObject { ["error"] = e.Message };
            }
            await stdout.WriteLineAsync(output.ToJsonString(s_json));
            await stdout.FlushAsync(ct); // one line out per line in, so a caller can use us as a co-process
        }
        await stdout.FlushAsync(ct);
    }
}
