using System.Net;
using System.Text.Json.Nodes;

namespace OrleansLlm.Platform.Tests;

/// <summary>Every refusal is OpenAI error JSON with the right status, and the server keeps serving after it.</summary>
[Collection(PlatformCollection.Name)]
public sealed class ErrorTests(PlatformFixture f)
{
    [Theory]
    [InlineData("""{"model":"tiny","messages":[{"role":"user","content":"hi"}],"temperature":5}""", "temperature")]
    [InlineData("""{"model":"tiny","messages":[{"role":"user","content":"hi"}],"max_tokens":"ten"}""", "max_tokens")]
    [InlineData("""{"model":"tiny","messages":[{"role":"user","content":"hi"}],"max_tokens":0}""", "max_tokens")]
    [InlineData("""{"model":"tiny","messages":[{"role":"user","content":"hi"}],"top_p":0}""", "top_p")]
    [InlineData("""{"model":"tiny","messages":[{"role":"user","content":"hi"}],"n":"3"}""", "n")]
    [InlineData("""{"model":"tiny","messages":[{"role":"user","content":"hi"}],"stream":"yes"}""", "stream")]
    [InlineData("""{"model":"tiny","messages":[{"role":"user","content":"hi"}],"stop":[1,2]}""", "stop")]
    [InlineData("""{"model":"tiny","messages":[{"role":"wizard","content":"hi"}]}""", "messages[0].role")]
    [InlineData("""{"model":"tiny","messages":[]}""", "messages")]
    [InlineData("""{"model":"tiny","messages":[{"role":"user","content":"hi"}],"top_logprobs":3}""", "top_logprobs")]
    [InlineData("""{"model":"tiny","messages":[{"role":"user","content":"hi"}],"seed":-1}""", "seed")]
    [InlineData("""{"model":"tiny"}""", "messages")]
    [InlineData("""{"messages":[{"role":"user","content":"hi"}]}""", "model")]
    [InlineData("""{"model":42,"messages":[{"role":"user","content":"hi"}]}""", "model")]
    [InlineData("""["not","an","object"]""", null)]
    public async Task Invalid_chat_parameters_are_400_naming_the_parameter(string json, string? param)
    {
        var reply = await Api.SendAsync(f, Api.Post("/v1/chat/completions", json));
        var error = Api.AssertOpenAiError(HttpStatusCode.BadRequest, reply, param);
        Assert.Equal("invalid_request_error", (string?)error["type"]);
        await Api.AssertServesAsync(f);
    }

    [Theory]
    [InlineData("""{"model":"tiny","max_tokens":4}""", "prompt")]
    [InlineData("""{"model":"tiny","prompt":"hi","logprobs":9}""", "logprobs")]
    [InlineData("""{"model":"tiny","prompt":{"a":1}}""", "prompt")]
    public async Task Invalid_completions_parameters_are_400(string json, string param)
    {
        Api.AssertOpenAiError(HttpStatusCode.BadRequest, await Api.SendAsync(f, Api.Post("/v1/completions", json)), param);
        await Api.AssertServesAsync(f);
    }

    [Theory]
    [InlineData("""{"model":"tiny","messages":[{"role":"user","content":"hi"}""")]
    [InlineData("""{"model": tiny}""")]
    [InlineData("")]
    public async Task Malformed_json_is_400_invalid_json(string json)
    {
        var error = Api.AssertOpenAiError(HttpStatusCode.BadRequest, await Api.SendAsync(f, Api.Post("/v1/chat/completions", json)), code: "invalid_json");
        Assert.Equal("invalid_request_error", (string?)error["type"]);
        await Api.AssertServesAsync(f);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_prompt_longer_than_the_context_is_400_context_length_exceeded(bool stream)
    {
        // the synthetic tokenizer is byte-level: a prompt of more bytes than positions is too long
        var prompt = string.Concat(Enumerable.Repeat("lorem ipsum ", f.MaxPositions / 4));
        var (_, tokenized) = await Api.PostAsync(f, "/tokenize", new JsonObject { ["model"] = PlatformFixture.Model, ["prompt"] = prompt });
        Assert.True((int)tokenized!["count"]! > f.MaxPositions, $"{tokenized["count"]} tokens is not over {f.MaxPositions}");

        var body = Api.Chat(prompt, maxTokens: 4, extra: new() { ["stream"] = stream });
        var error = Api.AssertOpenAiError(HttpStatusCode.BadRequest, await Api.PostAsync(f, "/v1/chat/completions", body), code: "context_length_exceeded");
        Assert.Equal("invalid_request_error", (string?)error["type"]);
        var completion = new JsonObject { ["model"] = PlatformFixture.Model, ["prompt"] = prompt, ["max_tokens"] = 4, ["stream"] = stream };
        Api.AssertOpenAiError(HttpStatusCode.BadRequest, await Api.PostAsync(f, "/v1/completions", completion), code: "context_length_exceeded");
        await Api.AssertServesAsync(f);
    }

    [Fact]
    public async Task A_prompt_that_fits_but_leaves_too_little_room_for_max_tokens_is_400_and_exactly_the_room_left_is_served()
    {
        // how many tokens a unit of text is, then a prompt of about max positions - 40 tokens
        async Task<int> CountAsync(string text) =>
            (int)(await Api.PostAsync(f, "/tokenize", new JsonObject { ["model"] = PlatformFixture.Model, ["prompt"] = text })).Body!["count"]!;
        const string unit = "ab cd ";
        var perUnit = (await CountAsync(string.Concat(Enumerable.Repeat(unit, 101))) - await CountAsync(unit)) / 100.0;
        var prompt = string.Concat(Enumerable.Repeat(unit, (int)((f.MaxPositions - 40) / perUnit)));
        var count = await CountAsync(prompt);
        Assert.InRange(count, f.MaxPositions - 100, f.MaxPositions - 2);
        // prompt + max_tokens over the context: refused, as OpenAI and vLLM do, not cut
        var tooMuch = new JsonObject { ["model"] = PlatformFixture.Model, ["prompt"] = prompt, ["max_tokens"] = 500, ["ignore_eos"] = true };
        var error = Api.AssertOpenAiError(HttpStatusCode.BadRequest, await Api.PostAsync(f, "/v1/completions", tooMuch), "prompt", "context_length_exceeded");
        Assert.Contains($"{count} in the prompt, 500 for the completion", (string)error["message"]!);
        // exactly the room left: served, and with ignore_eos it fills the context
        var exact = new JsonObject { ["model"] = PlatformFixture.Model, ["prompt"] = prompt, ["max_tokens"] = f.MaxPositions - count, ["ignore_eos"] = true };
        var (status, body) = await Api.PostAsync(f, "/v1/completions", exact);
        Assert.True(status == HttpStatusCode.OK, body?.ToJsonString());
        var usage = body!["usage"]!;
        Assert.Equal(count, (int)usage["prompt_tokens"]!);
        Assert.Equal("length", (string?)body["choices"]![0]!["finish_reason"]);
        Assert.Equal(f.MaxPositions, (int)usage["total_tokens"]!);
        await Api.AssertServesAsync(f);
    }

    [Fact]
    public async Task An_unknown_model_is_404_model_not_found()
    {
        var body = Api.Chat("hi");
        body["model"] = "no-such-model";
        Api.AssertOpenAiError(HttpStatusCode.NotFound, await Api.PostAsync(f, "/v1/chat/completions", body), "model", "model_not_found");
        body["stream"] = true;
        Api.AssertOpenAiError(HttpStatusCode.NotFound, await Api.PostAsync(f, "/v1/chat/completions", body), "model", "model_not_found");
        Api.AssertOpenAiError(HttpStatusCode.NotFound,
            await Api.PostAsync(f, "/v1/completions", new JsonObject { ["model"] = "no-such-model", ["prompt"] = "hi" }), "model", "model_not_found");
        Api.AssertOpenAiError(HttpStatusCode.NotFound,
            await Api.PostAsync(f, "/v1/sessions", new JsonObject { ["model"] = "no-such-model" }), "model", "model_not_found");
        await Api.AssertServesAsync(f);
    }

    [Fact]
    public async Task An_unknown_session_is_404_on_every_sessions_endpoint()
    {
        var id = "missing-" + Guid.NewGuid().ToString("N");
        Api.AssertOpenAiError(HttpStatusCode.NotFound, await Api.GetAsync(f, $"/v1/sessions/{id}"), code: "session_not_found");
        Api.AssertOpenAiError(HttpStatusCode.NotFound, await Api.PostAsync(f, $"/v1/sessions/{id}/messages",
            new JsonObject { ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hi" }) }), code: "session_not_found");
        Api.AssertOpenAiError(HttpStatusCode.NotFound, await Api.SendAsync(f, new HttpRequestMessage(HttpMethod.Delete, $"/v1/sessions/{id}")), code: "session_not_found");
        Api.AssertOpenAiError(HttpStatusCode.BadRequest, await Api.GetAsync(f, "/v1/sessions/bad%20id!"));
        await Api.AssertServesAsync(f);
    }

    [Fact]
    public async Task A_second_turn_while_one_runs_on_the_session_is_409_and_the_first_finishes()
    {
        var session = "busy-" + Guid.NewGuid().ToString("N");
        // the slow model: the first turn is sure to be running when the second comes
        var body = Api.Chat("Write a very long story.", maxTokens: 120, extra: new() { ["stream"] = true });
        body["model"] = PlatformFixture.SlowModel;
        await using var first = await SseStream.OpenAsync(f.Http, Api.Post("/v1/chat/completions", body.ToJsonString(), session));
        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.NotNull(await first.NextAsync());
        Assert.NotNull(await first.NextAsync());

        var meToo = Api.Chat("me too", maxTokens: 4);
        meToo["model"] = PlatformFixture.SlowModel;
        var second = await Api.PostAsync(f, "/v1/chat/completions", meToo, session);
        var stillRunning = await NotFinishedYet(first);
        Api.AssertOpenAiError(HttpStatusCode.Conflict, second, code: "session_busy");
        Assert.True(stillRunning, "the first turn ended before the second was refused; the 409 was not tested against a running turn");

        var rest = await first.RestAsync();
        Assert.Equal("[DONE]", rest[^1]);
        Assert.DoesNotContain(rest, e => e.Contains("\"error\"", StringComparison.Ordinal));
        await Api.AssertServesAsync(f);
        // the session is free again
        var now = Api.Chat("now me", maxTokens: 4);
        now["model"] = PlatformFixture.SlowModel;
        var (status, _) = await Api.PostAsync(f, "/v1/chat/completions", now, session);
        Assert.Equal(HttpStatusCode.OK, status);
    }

    /// <summary>True when the stream has another event that is not the end (the turn was still running).</summary>
    private static async Task<bool> NotFinishedYet(SseStream stream)
    {
        var next = await stream.NextAsync();
        return next is not null && next != "[DONE]" && JsonNode.Parse(next)!["choices"]?[0]?["finish_reason"] is null;
    }

    [Fact]
    public async Task A_body_over_the_limit_is_413()
    {
        var huge = new string('x', 5 << 20);
        var json = $$"""{"model":"tiny","messages":[{"role":"user","content":"{{huge}}"}]}""";
        // as curl does for large bodies: the gateway refuses on the headers, before the body is sent
        var request = Api.Post("/v1/chat/completions", json);
        request.Headers.ExpectContinue = true;
        var error = Api.AssertOpenAiError(HttpStatusCode.RequestEntityTooLarge, await Api.SendAsync(f, request), code: "payload_too_large");
        Assert.Equal("invalid_request_error", (string?)error["type"]);
        await Api.AssertServesAsync(f);
    }

    [Fact]
    public async Task N_over_the_limit_and_n_on_a_session_are_400()
    {
        Api.AssertOpenAiError(HttpStatusCode.BadRequest,
            await Api.PostAsync(f, "/v1/chat/completions", Api.Chat("hi", extra: new() { ["n"] = 100 })), "n");
        Api.AssertOpenAiError(HttpStatusCode.BadRequest,
            await Api.PostAsync(f, "/v1/chat/completions", Api.Chat("hi", extra: new() { ["n"] = 2 }), "n-on-session-" + Guid.NewGuid().ToString("N")), "n");
        await Api.AssertServesAsync(f);
    }
}
