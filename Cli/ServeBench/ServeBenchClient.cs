using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace OrleansLlm.Cli.ServeBench;

/// <summary>What one streamed request measured. Times in seconds from the request's start.</summary>
internal sealed record RequestResult(
    bool Ok,
    string? Error,
    double StartS,
    double TtftS,
    double E2eS,
    double[] ItlS,
    int PromptTokens,
    int CachedTokens,
    int OutputTokens,
    string Text);

/// <summary>Streams chat completions from an OpenAI-compatible server over raw HTTP and server-sent events.</summary>
internal sealed class ServeBenchClient(HttpClient http, string? apiKey)
{
    public async Task<string> FirstModelAsync(CancellationToken cancel)
    {
        using var request = Request(HttpMethod.Get, "v1/models");
        using var response = await http.SendAsync(request, cancel);
        var body = await response.Content.ReadAsStringAsync(cancel);
        response.EnsureSuccessStatusCode();
        return (string?)JsonNode.Parse(body)?["data"]?[0]?["id"] ?? throw new InvalidOperationException($"GET /v1/models listed no model: {body}");
    }

    /// <summary>Tokens per word of the workload's text, from the server's /tokenize (null when it has none).</summary>
    public async Task<double?> TokensPerWordAsync(string model, string sample, CancellationToken cancel)
    {
        try
        {
            using var request = Request(HttpMethod.Post, "tokenize");
            request.Content = Json(new JsonObject { ["model"] = model, ["prompt"] = sample, ["add_special_tokens"] = false });
            using var response = await http.SendAsync(request, cancel);
            if (!response.IsSuccessStatusCode)
            {
                return null;
            }
            var count = (int?)JsonNode.Parse(await response.Content.ReadAsStringAsync(cancel))?["count"];
            var words = sample.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
            return count is > 0 ? (double)count / words : null;
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    /// <summary>The engine of a session's last turn (GET /v1/sessions/ID), null if unknown.</summary>
    public async Task<string?> SessionEngineAsync(string sessionId, CancellationToken cancel)
    {
        try
        {
            using var request = Request(HttpMethod.Get, $"v1/sessions/{Uri.EscapeDataString(sessionId)}");
            using var response = await http.SendAsync(request, cancel);
            if (!response.IsSuccessStatusCode)
            {
                return null;
            }
            var view = JsonNode.Parse(await response.Content.ReadAsStringAsync(cancel));
            return (string?)view?["last_engine"] ?? (string?)view?["engine"];
        }
        catch (Exception e) when (e is HttpRequestException or JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// One streamed chat completion with usage. TTFT: until the first chunk with content; ITL: between
    /// chunks with content; E2E: until [DONE] (or the stream's end).
    /// </summary>
    public async Task<RequestResult> ChatAsync(string model, JsonArray messages, int maxTokens, string? sessionId, string? routing,
        Stopwatch clock, CancellationToken cancel)
    {
        var start = clock.Elapsed.TotalSeconds;
        var body = new JsonObject
        {
            ["model"] = model,
            ["messages"] = messages,
            ["max_tokens"] = maxTokens,
            ["ignore_eos"] = true,
            ["temperature"] = 0,
            ["stream"] = true,
            ["stream_options"] = new JsonObject { ["include_usage"] = true },
        };
        using var request = Request(HttpMethod.Post, "v1/chat/completions");
        request.Content = Json(body);
        if (sessionId is not null)
        {
            request.Headers.Add("X-Session-Id", sessionId);
        }
        if (routing is not null)
        {
            request.Headers.Add("X-Routing", routing);
        }
        var ttft = 0.0;
        var last = 0.0;
        var itl = new List<double>();
        var text = new StringBuilder();
        int prompt = 0, cached = 0, output = 0;
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel);
            if (!response.IsSuccessStatusCode)
            {
                var error = await response.Content.ReadAsStringAsync(cancel);
                return Failed(start, clock, $"HTTP {(int)response.StatusCode}: {Trim(error)}");
            }
            using var stream = await response.Content.ReadAsStreamAsync(cancel);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var done = false;
            while (!done && await reader.ReadLineAsync(cancel) is { } line)
            {
                if (!line.StartsWith("data:", StringComparison.Ordinal))
                {
                    continue;
                }
                var data = line.AsSpan(5).Trim();
                if (data.SequenceEqual("[DONE]"))
                {
                    done = true;
                    break;
                }
                var now = clock.Elapsed.TotalSeconds - start;
                var chunk = JsonNode.Parse(data.ToString());
                if (chunk?["error"] is { } err)
                {
                    return Failed(start, clock, $"stream error: {Trim(err.ToJsonString())}");
                }
                if (chunk?["choices"] is JsonArray { Count: > 0 } choices && (string?)choices[0]?["delta"]?["content"] is { Length: > 0 } content)
                {
                    if (ttft == 0)
                    {
                        ttft = now;
                    }
                    else
                    {
                        itl.Add(now - last);
                    }
                    last = now;
                    text.Append(content);
                }
                if (chunk?["usage"] is JsonObject usage)
                {
                    prompt = (int?)usage["prompt_tokens"] ?? 0;
                    output = (int?)usage["completion_tokens"] ?? 0;
                    cached = (int?)usage["prompt_tokens_details"]?["cached_tokens"] ?? 0;
                }
            }
            var e2e = clock.Elapsed.TotalSeconds - start;
            if (!done)
            {
                return Failed(start, clock, "the stream ended without [DONE]");
            }
            if (ttft == 0)
            {
                // no visible text (every piece empty): the first token's time is unknown; count the end
                ttft = e2e;
            }
            return new RequestResult(true, null, start, ttft, e2e, [.. itl], prompt, cached, output, text.ToString());
        }
        catch (Exception e) when (e is HttpRequestException or IOException or JsonException || (e is OperationCanceledException && !cancel.IsCancellationRequested))
        {
            return Failed(start, clock, $"{e.GetType().Name}: {e.Message}");
        }
    }

    private static RequestResult Failed(double start, Stopwatch clock, string error) =>
        new(false, error, start, 0, clock.Elapsed.TotalSeconds - start, [], 0, 0, 0, "");

    private static string Trim(string s) => s.Length > 300 ? s[..300] + "…" : s;

    private HttpRequestMessage Request(HttpMethod method, string path)
    {
        var request = new HttpRequestMessage(method, path);
        if (apiKey is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }
        return request;
    }

    private static StringContent Json(JsonNode body) => new(body.ToJsonString(), Encoding.UTF8, "application/json");
}
