using System.Text;
using System.Text.Json;
using OrleansLlm.Grains;

namespace OrleansLlm.Gateway.Apis;

/// <summary>A validated chat or completions request (the fields both share, and each one's own).</summary>
public sealed record GenerationRequest
{
    public required string Model { get; init; }
    public ChatMessageRecord[]? Messages { get; init; }
    public string? Prompt { get; init; }
    public required SamplingSettings Sampling { get; init; }
    public string[] Stop { get; init; } = [];
    public int N { get; init; } = 1;
    public bool Stream { get; init; }
    public bool IncludeUsage { get; init; }
    public string? User { get; init; }
    public bool Echo { get; init; }

    public TurnRequest ToTurn(string tenant, int choice, RoutingPolicy? routing) => new()
    {
        Model = Model,
        Messages = Messages,
        Prompt = Prompt,
        // n choices from one seed: each its own stream, all reproducible
        Sampling = choice == 0 || Sampling.Seed is null ? Sampling : Sampling with { Seed = Sampling.Seed + choice },
        Stop = Stop,
        Tenant = tenant,
        Routing = routing,
    };
}

/// <summary>Reads and checks a request body field by field, so each error names its parameter.</summary>
public static class GenerationRequestParser
{
    private static readonly HashSet<string> s_roles = ["system", "developer", "user", "assistant", "tool"];

    /// <param name="chat">true: /v1/chat/completions (messages); false: /v1/completions (prompt).</param>
    /// <param name="defaultModel">The model when the body names none (a session's); null: model is required.</param>
    public static GenerationRequest Parse(JsonElement body, bool chat, GatewayOptions options, string? defaultModel = null)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            throw new RequestValidationException("the request body must be a JSON object");
        }
        var model = OptionalString(body, "model") ?? defaultModel ?? throw new RequestValidationException("'model' is required", "model");
        var logprobs = false;
        var topLogprobs = 0;
        if (chat)
        {
            logprobs = OptionalBool(body, "logprobs") ?? false;
            topLogprobs = OptionalInt(body, "top_logprobs", 0, 20) ?? 0;
            if (topLogprobs > 0 && !logprobs)
            {
                throw new RequestValidationException("'top_logprobs' needs 'logprobs': true", "top_logprobs");
            }
        }
        else if (OptionalInt(body, "logprobs", 0, 5) is { } k)
        {
            logprobs = true;
            topLogprobs = k;
        }
        var maxTokens = OptionalInt(body, "max_completion_tokens", 1, int.MaxValue) ?? OptionalInt(body, "max_tokens", 1, int.MaxValue)
            ?? (chat ? 0 : 16);  // chat without max_tokens: up to the context limit, as OpenAI and vLLM do
        var sampling = new SamplingSettings
        {
            Temperature = (float)(OptionalNumber(body, "temperature", 0, 2) ?? 1.0),
            TopP = (float)(OptionalNumber(body, "top_p", 0, 1, exclusiveMin: true) ?? 1.0),
            TopK = OptionalInt(body, "top_k", -1, int.MaxValue) is { } topK && topK > 0 ? topK : 0,
            MinP = (float)(OptionalNumber(body, "min_p", 0, 1) ?? 0),
            PresencePenalty = (float)(OptionalNumber(body, "presence_penalty", -2, 2) ?? 0),
            FrequencyPenalty = (float)(OptionalNumber(body, "frequency_penalty", -2, 2) ?? 0),
            RepetitionPenalty = (float)(OptionalNumber(body, "repetition_penalty", 0, 10, exclusiveMin: true) ?? 1),
            MaxTokens = maxTokens,
            Seed = OptionalLong(body, "seed"),
            Logprobs = logprobs,
            TopLogprobs = topLogprobs,
            // vLLM's extension: generate to max_tokens even past the end-of-sequence token
            IgnoreEos = OptionalBool(body, "ignore_eos") ?? false,
        };
        var stream = OptionalBool(body, "stream") ?? false;
        var includeUsage = false;
        if (body.TryGetProperty("stream_options", out var streamOptions) && streamOptions.ValueKind != JsonValueKind.Null)
        {
            if (streamOptions.ValueKind != JsonValueKind.Object)
            {
                throw new RequestValidationException("'stream_options' must be an object", "stream_options");
            }
            includeUsage = OptionalBool(streamOptions, "include_usage", "stream_options.include_usage") ?? false;
        }
        return new GenerationRequest
        {
            Model = model,
            Messages = chat ? Messages(body) : null,
            Prompt = chat ? null : Prompt(body),
            Sampling = sampling,
            Stop = Stop(body),
            N = OptionalInt(body, "n", 1, options.MaxChoices) ?? 1,
            Stream = stream,
            IncludeUsage = includeUsage,
            User = OptionalString(body, "user"),
            Echo = !chat && (OptionalBool(body, "echo") ?? false),
        };
    }

    public static ChatMessageRecord[] Messages(JsonElement body, bool required = true)
    {
        if (!body.TryGetProperty("messages", out var messages) || messages.ValueKind == JsonValueKind.Null)
        {
            return required ? throw new RequestValidationException("'messages' is required", "messages") : [];
        }
        if (messages.ValueKind != JsonValueKind.Array || (required && messages.GetArrayLength() == 0))
        {
            throw new RequestValidationException("'messages' must be a non-empty array", "messages");
        }
        var result = new List<ChatMessageRecord>();
        var i = 0;
        foreach (var m in messages.EnumerateArray())
        {
            var param = $"messages[{i++}]";
            if (m.ValueKind != JsonValueKind.Object)
            {
                throw new RequestValidationException($"'{param}' must be an object", param);
            }
            var role = OptionalString(m, "role", $"{param}.role") ?? throw new RequestValidationException($"'{param}.role' is required", $"{param}.role");
            if (!s_roles.Contains(role))
            {
                throw new RequestValidationException($"'{param}.role' must be one of {string.Join(", ", s_roles)}, not '{role}'", $"{param}.role");
            }
            result.Add(new ChatMessageRecord(role == "developer" ? "system" : role, Content(m, $"{param}.content")));
        }
        return [.. result];
    }

    private static string Content(JsonElement message, string param)
    {
        if (!message.TryGetProperty("content", out var content) || content.ValueKind == JsonValueKind.Null)
        {
            return "";
        }
        if (content.ValueKind == JsonValueKind.String)
        {
            return content.GetString()!;
        }
        if (content.ValueKind != JsonValueKind.Array)
        {
            throw new RequestValidationException($"'{param}' must be a string or an array of text parts", param);
        }
        var text = new StringBuilder();
        foreach (var part in content.EnumerateArray())
        {
            if (part.ValueKind != JsonValueKind.Object || OptionalString(part, "type", param) != "text")
            {
                throw new RequestValidationException($"'{param}': only text parts are supported", param);
            }
            text.Append(OptionalString(part, "text", param) ?? "");
        }
        return text.ToString();
    }

    private static string Prompt(JsonElement body)
    {
        if (!body.TryGetProperty("prompt", out var prompt) || prompt.ValueKind == JsonValueKind.Null)
        {
            throw new RequestValidationException("'prompt' is required", "prompt");
        }
        if (prompt.ValueKind == JsonValueKind.Array && prompt.GetArrayLength() == 1 && prompt[0].ValueKind == JsonValueKind.String)
        {
            return prompt[0].GetString()!;
        }
        return prompt.ValueKind == JsonValueKind.String
            ? prompt.GetString()!
            : throw new RequestValidationException("'prompt' must be a string (or an array of one string)", "prompt");
    }

    private static string[] Stop(JsonElement body)
    {
        if (!body.TryGetProperty("stop", out var stop) || stop.ValueKind == JsonValueKind.Null)
        {
            return [];
        }
        string[] stops = stop.ValueKind switch
        {
            JsonValueKind.String => [stop.GetString()!],
            JsonValueKind.Array when stop.EnumerateArray().All(s => s.ValueKind == JsonValueKind.String) =>
                [.. stop.EnumerateArray().Select(s => s.GetString()!)],
            _ => throw new RequestValidationException("'stop' must be a string or an array of strings", "stop"),
        };
        if (stops.Length > 4 || stops.Any(s => s.Length == 0))
        {
            throw new RequestValidationException("'stop' takes at most 4 non-empty strings", "stop");
        }
        return stops;
    }

    public static string? OptionalString(JsonElement body, string name, string? param = null)
    {
        if (!body.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw TypeError(param ?? name, "a string");
    }

    public static bool? OptionalBool(JsonElement body, string name, string? param = null)
    {
        if (!body.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw TypeError(param ?? name, "a boolean"),
        };
    }

    public static int? OptionalInt(JsonElement body, string name, int min, int max)
    {
        if (!body.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out var i))
        {
            throw TypeError(name, "an integer");
        }
        return i < min || i > max
            ? throw new RequestValidationException($"'{name}' must be between {min} and {max}, not {i}", name)
            : i;
    }

    private static long? OptionalLong(JsonElement body, string name)
    {
        if (!body.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        return v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var l) && l >= 0 ? l : throw TypeError(name, "a non-negative integer");
    }

    private static double? OptionalNumber(JsonElement body, string name, double min, double max, bool exclusiveMin = false)
    {
        if (!body.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (v.ValueKind != JsonValueKind.Number)
        {
            throw TypeError(name, "a number");
        }
        var d = v.GetDouble();
        if (d > max || d < min || (exclusiveMin && d == min))
        {
            throw new RequestValidationException($"'{name}' must be {(exclusiveMin ? "above" : "at least")} {min} and at most {max}, not {d}", name);
        }
        return d;
    }

    private static RequestValidationException TypeError(string name, string expected) => new($"'{name}' must be {expected}", name);
}
