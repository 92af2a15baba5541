using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace OrleansLlm.Platform.Tests;

/// <summary>The sessions API, and multi-turn chat with X-Session-Id reusing the KV cache on one engine.</summary>
[Collection(PlatformCollection.Name)]
public sealed class SessionTests(PlatformFixture f)
{
    private static JsonArray Messages(params (string Role, string Content)[] messages) =>
        new([.. messages.Select(m => (JsonNode)new JsonObject { ["role"] = m.Role, ["content"] = m.Content })]);

    private static (string Role, string Content)[] History(JsonNode session) =>
        [.. session["messages"]!.AsArray().Select(m => ((string)m!["role"]!, (string)m["content"]!))];

    [Fact]
    public async Task Create_get_add_turns_and_delete_a_session()
    {
        var id = "api-" + Guid.NewGuid().ToString("N");
        var (created, session) = await Api.PostAsync(f, "/v1/sessions", new JsonObject
        {
            ["model"] = PlatformFixture.Model,
            ["id"] = id,
            ["messages"] = Messages(("system", "You are terse.")),
        });
        Assert.True(created == HttpStatusCode.Created, session?.ToJsonString());
        Assert.Equal(id, (string?)session!["id"]);
        Assert.Equal("session", (string?)session["object"]);
        Assert.Equal(PlatformFixture.Model, (string?)session["model"]);
        Assert.Equal(0, (int)session["turns"]!);
        Assert.Equal([("system", "You are terse.")], History(session));

        // creating it again is a conflict
        Api.AssertOpenAiError(HttpStatusCode.Conflict, await Api.PostAsync(f, "/v1/sessions", new JsonObject { ["model"] = PlatformFixture.Model, ["id"] = id }));

        var (got, view) = await Api.GetAsync(f, $"/v1/sessions/{id}");
        Assert.Equal(HttpStatusCode.OK, got);
        Assert.Contains((string?)view!["silo"], PlatformFixture.SiloNames);

        // a turn: the posted messages follow the stored history, and the reply is appended
        var (turned, reply) = await Api.PostAsync(f, $"/v1/sessions/{id}/messages", new JsonObject
        {
            ["messages"] = Messages(("user", "Hello there")), ["max_tokens"] = 6, ["temperature"] = 0,
        });
        Assert.True(turned == HttpStatusCode.OK, reply?.ToJsonString());
        Assert.Equal("chat.completion", (string?)reply!["object"]);
        var answer1 = Api.Text(reply);
        // the session's prompt is the stored history plus the new message
        var (_, tokenized) = await Api.PostAsync(f, "/tokenize", new JsonObject
        {
            ["model"] = PlatformFixture.Model, ["messages"] = Messages(("system", "You are terse."), ("user", "Hello there")),
        });
        Assert.Equal((int)tokenized!["count"]!, (int)reply["usage"]!["prompt_tokens"]!);

        (_, view) = await Api.GetAsync(f, $"/v1/sessions/{id}");
        Assert.Equal(1, (int)view!["turns"]!);
        Assert.Equal([("system", "You are terse."), ("user", "Hello there"), ("assistant", answer1)], History(view));
        Assert.Contains((string?)view["last_engine"], PlatformFixture.SiloNames.Select(PlatformFixture.EngineOf));
        var assistant = view["messages"]![2]!;
        Assert.Equal((int)reply["usage"]!["completion_tokens"]!, assistant["token_ids"]!.AsArray().Count);

        // a streamed second turn
        var body = new JsonObject { ["messages"] = Messages(("user", "And again")), ["max_tokens"] = 6, ["temperature"] = 0, ["stream"] = true };
        await using (var stream = await SseStream.OpenAsync(f.Http, Api.Post($"/v1/sessions/{id}/messages", body.ToJsonString())))
        {
            Assert.Equal(HttpStatusCode.OK, stream.Status);
            var events = await stream.RestAsync();
            Assert.Equal("[DONE]", events[^1]);
            var answer2 = string.Concat(events.SkipLast(1).Select(e => (string?)JsonNode.Parse(e)!["choices"]![0]!["delta"]!["content"] ?? ""));
            (_, view) = await Api.GetAsync(f, $"/v1/sessions/{id}");
            Assert.Equal(2, (int)view!["turns"]!);
            Assert.Equal([("system", "You are terse."), ("user", "Hello there"), ("assistant", answer1), ("user", "And again"), ("assistant", answer2)],
                History(view));
        }

        var (deleted, gone) = await Api.SendAsync(f, new HttpRequestMessage(HttpMethod.Delete, $"/v1/sessions/{id}"));
        Assert.Equal(HttpStatusCode.OK, deleted);
        Assert.Equal(true, (bool?)gone!["deleted"]);
        Api.AssertOpenAiError(HttpStatusCode.NotFound, await Api.GetAsync(f, $"/v1/sessions/{id}"), code: "session_not_found");
        Api.AssertOpenAiError(HttpStatusCode.NotFound, await Api.SendAsync(f, new HttpRequestMessage(HttpMethod.Delete, $"/v1/sessions/{id}")));
    }

    [Fact]
    public async Task A_session_keeps_its_model_and_cannot_be_deleted_during_a_turn()
    {
        var id = "rules-" + Guid.NewGuid().ToString("N");
        var (status, _) = await Api.PostAsync(f, "/v1/chat/completions", Api.Chat("first", maxTokens: 2), id);
        Assert.Equal(HttpStatusCode.OK, status);
        var other = Api.Chat("second", maxTokens: 2);
        other["model"] = PlatformFixture.SlowModel;
        Api.AssertOpenAiError(HttpStatusCode.BadRequest, await Api.PostAsync(f, "/v1/chat/completions", other, id), "model");

        var slow = "rules-slow-" + Guid.NewGuid().ToString("N");
        var body = Api.Chat("A long answer, please.", maxTokens: 120, extra: new() { ["stream"] = true });
        body["model"] = PlatformFixture.SlowModel;
        await using var stream = await SseStream.OpenAsync(f.Http, Api.Post("/v1/chat/completions", body.ToJsonString(), slow));
        Assert.NotNull(await stream.NextAsync());
        Assert.NotNull(await stream.NextAsync());
        Api.AssertOpenAiError(HttpStatusCode.Conflict, await Api.SendAsync(f, new HttpRequestMessage(HttpMethod.Delete, $"/v1/sessions/{slow}")), code: "session_busy");
        Assert.Equal("[DONE]", (await stream.RestAsync())[^1]);
        var (deleted, _) = await Api.SendAsync(f, new HttpRequestMessage(HttpMethod.Delete, $"/v1/sessions/{slow}"));
        Assert.Equal(HttpStatusCode.OK, deleted);
    }

    [Fact]
    public async Task A_turn_the_client_abandons_leaves_the_session_free_and_its_history_unchanged()
    {
        var id = "abandon-" + Guid.NewGuid().ToString("N");
        var first = Api.Chat("Remember this.", maxTokens: 4);
        first["model"] = PlatformFixture.SlowModel;
        var (status, _) = await Api.PostAsync(f, "/v1/chat/completions", first, id);
        Assert.Equal(HttpStatusCode.OK, status);
        var (_, before) = await Api.GetAsync(f, $"/v1/sessions/{id}");

        var body = Api.Chat("Now talk for a long time.", maxTokens: 400, extra: new() { ["stream"] = true });
        body["model"] = PlatformFixture.SlowModel;
        using (var cancel = new CancellationTokenSource())
        {
            var stream = await SseStream.OpenAsync(f.Http, Api.Post("/v1/chat/completions", body.ToJsonString(), id), cancel.Token);
            Assert.NotNull(await stream.NextAsync(cancel.Token));
            Assert.NotNull(await stream.NextAsync(cancel.Token));
            await cancel.CancelAsync();
            await stream.DisposeAsync();
        }

        // the session takes a new turn within a few seconds (its aborted turn released it)
        var next = Api.Chat("Short now.", maxTokens: 2);
        next["model"] = PlatformFixture.SlowModel;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var (_, view) = await Api.GetAsync(f, $"/v1/sessions/{id}");
            Assert.Equal(before!["messages"]!.ToJsonString(), view!["messages"]!.ToJsonString());
            var reply = await Api.PostAsync(f, "/v1/chat/completions", next, id);
            if (reply.Status == HttpStatusCode.OK)
            {
                break;
            }
            Api.AssertOpenAiError(HttpStatusCode.Conflict, reply, code: "session_busy");
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), "the session is still busy 5 s after its client went away");
            await Task.Delay(200);
        }
        var (_, after) = await Api.GetAsync(f, $"/v1/sessions/{id}");
        Assert.Equal(2, (int)after!["turns"]!);
    }

    [Fact]
    public async Task Models_lists_both_served_models()
    {
        var (status, body) = await Api.GetAsync(f, "/v1/models");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("list", (string?)body!["object"]);
        Assert.Equal([PlatformFixture.SlowModel, PlatformFixture.Model], body["data"]!.AsArray().Select(m => (string)m!["id"]!).Order().ToArray());
    }

    [Fact]
    public async Task Five_turns_with_a_long_system_prompt_reuse_the_cache_on_one_engine()
    {
        var engines = await f.EnginesAsync();
        Assert.All(PlatformFixture.SiloNames.Select(PlatformFixture.EngineOf), e => Assert.True(engines.ContainsKey(e), $"/admin/cluster lacks {e}"));

        var id = "multi-" + Guid.NewGuid().ToString("N");
        var system = new StringBuilder("You are a careful assistant for a test of the platform's prefix cache. ");
        while (system.Length < 1200)
        {
            system.Append("Answer briefly, stay on topic, and never repeat yourself. Remember every earlier turn. ");
        }
        var (_, tokenized) = await Api.PostAsync(f, "/tokenize", new JsonObject
        {
            ["model"] = PlatformFixture.Model, ["messages"] = Messages(("system", system.ToString())),
        });
        Assert.True((int)tokenized!["count"]! >= 300, $"the system prompt is {tokenized["count"]} tokens");

        var conversation = new List<(string Role, string Content)> { ("system", system.ToString()) };
        string? engine = null;
        for (var turn = 1; turn <= 5; turn++)
        {
            conversation.Add(("user", $"This is turn {turn}. What next?"));
            var (status, reply) = await Api.PostAsync(f, "/v1/chat/completions", new JsonObject
            {
                ["model"] = PlatformFixture.Model,
                ["messages"] = Messages([.. conversation]),
                ["max_tokens"] = 8,
                ["temperature"] = 0,
            }, id);
            Assert.True(status == HttpStatusCode.OK, $"turn {turn}: {reply?.ToJsonString()}");
            var usage = reply!["usage"]!;
            var cached = (int?)usage["prompt_tokens_details"]?["cached_tokens"];
            Assert.NotNull(cached);
            Assert.InRange(cached.Value, 0, (int)usage["prompt_tokens"]! - 1);
            conversation.Add(("assistant", Api.Text(reply)));

            var (_, session) = await Api.GetAsync(f, $"/v1/sessions/{id}");
            var last = (string?)session!["last_engine"];
            Assert.Contains(last, PlatformFixture.SiloNames.Select(PlatformFixture.EngineOf));
            Assert.Equal(turn, (int)session["turns"]!);
            Assert.Equal(conversation, History(session));
            if (turn == 1)
            {
                engine = last;
            }
            else
            {
                Assert.True(engine == last, $"turn {turn} went to {last}, not to {engine} which holds the conversation's blocks");
                Assert.True(cached > 0, $"turn {turn} reused no cached tokens: {usage.ToJsonString()}");
                // at least the whole system prompt's full blocks
                Assert.True(cached >= (int)tokenized["count"]! - 32, $"turn {turn}: {cached} cached tokens of a {tokenized["count"]}-token system prompt");
                Assert.Equal(engine, last);
            }
        }
    }
}
