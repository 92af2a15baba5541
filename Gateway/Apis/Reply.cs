using System.Text;
using System.Text.Json.Nodes;
using OrleansLlm.Grains;

namespace OrleansLlm.Gateway.Apis;

/// <summary>The choices of one reply as their chunks arrive, and the OpenAI JSON made of them.</summary>
public sealed class Reply(int n)
{
    private readonly StringBuilder[] _text = [.. Enumerable.Range(0, n).Select(_ => new StringBuilder())];
    private readonly List<TokenLogprobRecord>[] _logprobs = [.. Enumerable.Range(0, n).Select(_ => new List<TokenLogprobRecord>())];
    private readonly string?[] _finish = new string?[n];
    private readonly TurnUsage?[] _usage = new TurnUsage?[n];

    public void Add(int choice, TurnChunk chunk)
    {
        _text[choice].Append(chunk.Text);
        _logprobs[choice].AddRange(chunk.Logprobs);
        _finish[choice] ??= chunk.FinishReason;
        _usage[choice] ??= chunk.Usage;
    }

    public JsonObject ChatCompletion(string id, long created, string model) => new()
    {
        ["id"] = id, ["object"] = "chat.completion", ["created"] = created, ["model"] = model,
        ["choices"] = new JsonArray([.. Enumerable.Range(0, n).Select(i => (JsonNode)new JsonObject
        {
            ["index"] = i,
            ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = _text[i].ToString() },
            ["logprobs"] = _logprobs[i].Count > 0 ? LogprobsJson(_logprobs[i], chat: true) : null,
            ["finish_reason"] = _finish[i],
        })]),
        ["usage"] = UsageJson(),
    };

    public JsonObject TextCompletion(string id, long created, string model) => new()
    {
        ["id"] = id, ["object"] = "text_completion", ["created"] = created, ["model"] = model,
        ["choices"] = new JsonArray([.. Enumerable.Range(0, n).Select(i => (JsonNode)new JsonObject
        {
            ["index"] = i,
            ["text"] = _text[i].ToString(),
            ["logprobs"] = _logprobs[i].Count > 0 ? LogprobsJson(_logprobs[i], chat: false) : null,
            ["finish_reason"] = _finish[i],
        })]),
        ["usage"] = UsageJson(),
    };

    /// <summary>Usage of all choices: the prompt counted once, as OpenAI does.</summary>
    public JsonObject UsageJson()
    {
        var prompt = _usage.Max(u => u?.PromptTokens ?? 0);
        var cached = _usage.Max(u => u?.CachedPromptTokens ?? 0);
        var completion = _usage.Sum(u => u?.CompletionTokens ?? 0);
        return new JsonObject
        {
            ["prompt_tokens"] = prompt,
            ["completion_tokens"] = completion,
            ["total_tokens"] = prompt + completion,
            ["prompt_tokens_details"] = new JsonObject { ["cached_tokens"] = cached },
        };
    }

    /// <summary>Chat: <c>{"content":[{token, logprob, bytes, top_logprobs}]}</c>; completions: the legacy parallel arrays.</summary>
    public static JsonObject? LogprobsJson(IReadOnlyList<TokenLogprobRecord> entries, bool chat)
    {
        if (entries.Count == 0)
        {
            return null;
        }
        if (chat)
        {
            return new JsonObject
            {
                ["content"] = new JsonArray([.. entries.Select(e => (JsonNode)new JsonObject
                {
                    ["token"] = e.Token,
                    ["logprob"] = e.Logprob,
                    ["bytes"] = Bytes(e.Token),
                    ["top_logprobs"] = new JsonArray([.. e.Top.Select(t => (JsonNode)new JsonObject
                    {
                        ["token"] = t.Token, ["logprob"] = t.Logprob, ["bytes"] = Bytes(t.Token),
                    })]),
                })]),
            };
        }
        return new JsonObject
        {
            ["tokens"] = new JsonArray([.. entries.Select(e => (JsonNode)JsonValue.Create(e.Token))]),
            ["token_logprobs"] = new JsonArray([.. entries.Select(e => (JsonNode)JsonValue.Create(e.Logprob))]),
            ["top_logprobs"] = new JsonArray([.. entries.Select(e =>
            {
                var top = new JsonObject();
                foreach (var t in e.Top)
                {
                    top[t.Token] = t.Logprob;
                }
                return (JsonNode)top;
            })]),
        };
    }

    private static JsonArray Bytes(string token) => new([.. Encoding.UTF8.GetBytes(token).Select(b => (JsonNode)JsonValue.Create((int)b))]);
}
