using System.ClientModel;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using OpenAI;
using OpenAI.Chat;

namespace OrleansLlm.Platform.Tests;

/// <summary>Raw HTTP and OpenAI-client helpers against the fixture's gateway.</summary>
public static class Api
{
    public static ChatClient ChatClient(PlatformFixture f) =>
        new(PlatformFixture.Model, new ApiKeyCredential("sk-test-dummy"), new OpenAIClientOptions
        {
            Endpoint = new Uri(f.Gateway, "/v1"),
            NetworkTimeout = TimeSpan.FromSeconds(120),
        });

    public static HttpRequestMessage Post(string path, string json, string? sessionId = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (sessionId is not null)
        {
            request.Headers.Add("X-Session-Id", sessionId);
        }
        return request;
    }

    public static Task<(HttpStatusCode Status, JsonNode? Body)> PostAsync(PlatformFixture f, string path, JsonNode body, string? sessionId = null) =>
        SendAsync(f, Post(path, body.ToJsonString(), sessionId));

    public static async Task<(HttpStatusCode Status, JsonNode? Body)> SendAsync(PlatformFixture f, HttpRequestMessage request)
    {
        using (request)
        {
            using var response = await f.Http.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            JsonNode? body;
            try
            {
                body = text.Length == 0 ? null : JsonNode.Parse(text);
            }
            catch (System.Text.Json.JsonException)
            {
                throw new Xunit.Sdk.XunitException($"{(int)response.StatusCode}: the body is not JSON: {text}");
            }
            return (response.StatusCode, body);
        }
    }

    public static async Task<(HttpStatusCode Status, JsonNode? Body)> GetAsync(PlatformFixture f, string path) =>
        await SendAsync(f, new HttpRequestMessage(HttpMethod.Get, path));

    public static JsonObject Chat(string content, int maxTokens = 16, double temperature = 0, JsonObject? extra = null, string? system = null)
    {
        var messages = new JsonArray();
        if (system is not null)
        {
            messages.Add(new JsonObject { ["role"] = "system", ["content"] = system });
        }
        messages.Add(new JsonObject { ["role"] = "user", ["content"] = content });
        var body = new JsonObject
        {
            ["model"] = PlatformFixture.Model,
            ["messages"] = messages,
            ["max_tokens"] = maxTokens,
            ["temperature"] = temperature,
        };
        foreach (var (k, v) in extra ?? [])
        {
            body[k] = v?.DeepClone();
        }
        return body;
    }

    /// <summary>Asserts an OpenAI error body: <c>{"error":{"message","type","param","code"}}</c>, all four present.</summary>
    public static JsonObject AssertOpenAiError(HttpStatusCode expected, (HttpStatusCode Status, JsonNode? Body) reply, string? param = null, string? code = null)
    {
        Assert.True(expected == reply.Status, $"expected {(int)expected}, got {(int)reply.Status}: {reply.Body?.ToJsonString()}");
        var error = Assert.IsType<JsonObject>(reply.Body?["error"]);
        foreach (var key in new[] { "message", "type", "param", "code" })
        {
            Assert.True(error.ContainsKey(key), $"error JSON lacks '{key}': {error.ToJsonString()}");
        }
        Assert.False(string.IsNullOrWhiteSpace((string?)error["message"]));
        Assert.False(string.IsNullOrWhiteSpace((string?)error["type"]));
        if (param is not null)
        {
            Assert.Equal(param, (string?)error["param"]);
        }
        if (code is not null)
        {
            Assert.Equal(code, (string?)error["code"]);
        }
        return error;
    }

    /// <summary>The server still serves: a small chat request succeeds.</summary>
    public static async Task AssertServesAsync(PlatformFixture f)
    {
        var (status, body) = await PostAsync(f, "/v1/chat/completions", Chat("still there?", maxTokens: 4));
        Assert.True(status == HttpStatusCode.OK, $"a normal request failed after the error: {(int)status} {body?.ToJsonString()}");
        Assert.Equal("chat.completion", (string?)body!["object"]);
    }

    /// <summary>Text of a non-streamed chat completion's first choice.</summary>
    public static string Text(JsonNode body) => (string)body["choices"]![0]!["message"]!["content"]!;

    /// <summary>Retries <paramref name="action"/> until it returns without an exception or <paramref name="timeout"/> passes.</summary>
    public static async Task<T> RetryAsync<T>(Func<Task<T>> action, TimeSpan timeout, TimeSpan? delay = null)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return await action();
            }
            catch (Exception) when (clock.Elapsed < timeout)
            {
                await Task.Delay(delay ?? TimeSpan.FromMilliseconds(500));
            }
        }
    }
}

/// <summary>A server-sent-events response read event by event.</summary>
public sealed class SseStream : IAsyncDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;

    private SseStream(HttpResponseMessage response, StreamReader reader)
    {
        _response = response;
        _reader = reader;
    }

    public HttpStatusCode Status => _response.StatusCode;

    /// <summary>The engine serving the (first) choice, from the gateway's X-OrleansLlm-Engine header.</summary>
    public string Engine => _response.Headers.TryGetValues("X-OrleansLlm-Engine", out var values) ? values.First().Split(',')[0] : "";

    public static async Task<SseStream> OpenAsync(HttpClient http, HttpRequestMessage request, CancellationToken cancel = default)
    {
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel);
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancel));
        return new SseStream(response, reader);
    }

    /// <summary>The next event's data ("[DONE]" or JSON text); null at the end of the stream.</summary>
    public async Task<string?> NextAsync(CancellationToken cancel = default)
    {
        while (await _reader.ReadLineAsync(cancel) is { } line)
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                return line["data: ".Length..];
            }
        }
        return null;
    }

    /// <summary>Every remaining event, until the stream ends.</summary>
    public async Task<List<string>> RestAsync(CancellationToken cancel = default)
    {
        var events = new List<string>();
        while (await NextAsync(cancel) is { } e)
        {
            events.Add(e);
        }
        return events;
    }

    public async ValueTask DisposeAsync()
    {
        _reader.Dispose();
        _response.Dispose();
        await Task.CompletedTask;
    }
}
