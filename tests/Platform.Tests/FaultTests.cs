using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace OrleansLlm.Platform.Tests;

/// <summary>
/// Silo crashes and client disconnects. Each test that kills a silo starts a replacement with the
/// same name (so the same engine id) before it ends, and waits until both engines serve again.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class FaultTests(PlatformFixture f, ITestOutputHelper output)
{
    private static readonly TimeSpan s_recovery = TimeSpan.FromSeconds(45);

    // long enough that, at the slow model's one-thread decode speed (~100 tokens/s), the generation
    // is still running when a test has found its engine and killed its silo (400 was not, once decode got faster)
    private const int LongTokens = 1500;

    /// <summary>A long streamed generation on the slow model (seconds on one thread).</summary>
    private static JsonObject LongStream(string content, bool stream = true)
    {
        var body = Api.Chat(content, maxTokens: LongTokens, extra: new() { ["stream"] = stream, ["ignore_eos"] = true });
        body["model"] = PlatformFixture.SlowModel;
        return body;
    }

    [Fact]
    public async Task Killing_the_silo_of_a_session_keeps_its_history_and_the_next_turn_works()
    {
        var id = "fault-" + Guid.NewGuid().ToString("N");
        var (created, _) = await Api.PostAsync(f, "/v1/sessions", new JsonObject
        {
            ["model"] = PlatformFixture.Model, ["id"] = id,
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "system", ["content"] = "You survive crashes." }),
        });
        Assert.Equal(HttpStatusCode.Created, created);
        var (turned, reply) = await Api.PostAsync(f, $"/v1/sessions/{id}/messages", new JsonObject
        {
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "Remember me." }), ["max_tokens"] = 6, ["temperature"] = 0,
        });
        Assert.True(turned == HttpStatusCode.OK, reply?.ToJsonString());
        var (_, before) = await Api.GetAsync(f, $"/v1/sessions/{id}");
        var silo = (string)before!["silo"]!;
        Assert.Contains(silo, PlatformFixture.SiloNames);
        var survivor = PlatformFixture.SiloNames.Single(s => s != silo);

        try
        {
            f.KillSilo(silo);
            var clock = Stopwatch.StartNew();
            var after = await Api.RetryAsync(async () =>
            {
                var (status, body) = await Api.GetAsync(f, $"/v1/sessions/{id}");
                Assert.True(status == HttpStatusCode.OK, $"{(int)status} {body?.ToJsonString()}");
                return body!;
            }, s_recovery);
            output.WriteLine($"session readable again after {clock.Elapsed.TotalSeconds:F1} s, on {after["silo"]}");
            Assert.Equal(survivor, (string?)after["silo"]);
            Assert.Equal(before["messages"]!.ToJsonString(), after["messages"]!.ToJsonString());
            Assert.Equal(1, (int)after["turns"]!);

            var next = await Api.RetryAsync(async () =>
            {
                var (status, body) = await Api.PostAsync(f, $"/v1/sessions/{id}/messages", new JsonObject
                {
                    ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "Still there?" }), ["max_tokens"] = 6, ["temperature"] = 0,
                });
                Assert.True(status == HttpStatusCode.OK, $"{(int)status} {body?.ToJsonString()}");
                return body!;
            }, s_recovery);
            output.WriteLine($"next turn served after {clock.Elapsed.TotalSeconds:F1} s");
            var (_, final) = await Api.GetAsync(f, $"/v1/sessions/{id}");
            Assert.Equal(2, (int)final!["turns"]!);
            Assert.Equal(PlatformFixture.EngineOf(survivor), (string?)final["last_engine"]);
            var messages = final["messages"]!.AsArray();
            Assert.Equal(5, messages.Count);
            Assert.Equal(before["messages"]!.ToJsonString(), new JsonArray([.. messages.Take(3).Select(m => m!.DeepClone())]).ToJsonString());
            Assert.Equal(Api.Text(next), (string?)messages[4]!["content"]);
        }
        finally
        {
            await f.EnsureSiloRunningAsync(silo);
        }
    }

    [Fact]
    public async Task An_engine_killed_mid_stream_ends_the_stream_with_an_error_event_and_a_retry_works()
    {
        var body = LongStream("Tell me everything, at length.");
        await using var stream = await SseStream.OpenAsync(f.Http, Api.Post("/v1/chat/completions", body.ToJsonString()));
        Assert.Equal(HttpStatusCode.OK, stream.Status);
        for (var i = 0; i < 3; i++)
        {
            Assert.NotNull(await stream.NextAsync());
        }
        // the engine the gateway says serves the stream: the cluster's status board may lag it
        var engine = stream.Engine;
        Assert.EndsWith("/" + PlatformFixture.SlowDevice, engine);
        var silo = engine.Split('/')[0];
        try
        {
            f.KillSilo(silo);
            using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var rest = await stream.RestAsync(cancel.Token);
            output.WriteLine($"{rest.Count} events after the kill; last: {(rest.Count > 0 ? rest[^1] : "none")}");
            Assert.NotEmpty(rest);
            Assert.DoesNotContain("[DONE]", rest);
            var error = JsonNode.Parse(rest[^1])!["error"];
            Assert.True(error is JsonObject, $"the last event is not an error: {rest[^1]}");
            Assert.False(string.IsNullOrEmpty((string?)error["message"]));
            Assert.NotNull((string?)error["type"]);
            // no text came after a chunk with a finish reason
            Assert.DoesNotContain(rest, e => JsonNode.Parse(e)?["choices"]?[0]?["finish_reason"] is JsonValue);

            // a retry goes to the remaining engine
            var retry = await Api.RetryAsync(async () =>
            {
                var body = LongStream("Tell me everything, at length.", stream: false);
                body["max_tokens"] = 8;
                var (status, reply) = await Api.PostAsync(f, "/v1/chat/completions", body);
                Assert.True(status == HttpStatusCode.OK, $"{(int)status} {reply?.ToJsonString()}");
                return reply!;
            }, TimeSpan.FromSeconds(20));
            Assert.Equal("chat.completion", (string?)retry["object"]);
        }
        finally
        {
            await f.EnsureSiloRunningAsync(silo);
        }
    }

    [Fact]
    public async Task A_client_that_disconnects_aborts_its_generation()
    {
        // how long the whole generation takes when nobody goes away
        var full = Stopwatch.StartNew();
        var (status, whole) = await Api.PostAsync(f, "/v1/chat/completions", LongStream("Go on forever.", stream: false));
        Assert.True(status == HttpStatusCode.OK, whole?.ToJsonString());
        full.Stop();
        var fullTokens = (int)whole!["usage"]!["completion_tokens"]!;

        var clock = Stopwatch.StartNew();
        string engine;
        using (var cancel = new CancellationTokenSource())
        {
            var stream = await SseStream.OpenAsync(f.Http, Api.Post("/v1/chat/completions", LongStream("Go on forever.").ToJsonString()), cancel.Token);
            Assert.Equal(HttpStatusCode.OK, stream.Status);
            for (var i = 0; i < 3; i++)
            {
                Assert.NotNull(await stream.NextAsync(cancel.Token));
            }
            engine = stream.Engine;
            Assert.EndsWith("/" + PlatformFixture.SlowDevice, engine);
            await cancel.CancelAsync();
            await stream.DisposeAsync();
        }
        var cancelledAt = clock.Elapsed;

        var idle = Stopwatch.StartNew();
        while ((int)(await f.EnginesAsync(live: true))[engine]["running"]! > 0)
        {
            Assert.True(idle.Elapsed < TimeSpan.FromSeconds(5), $"{engine} still runs the request 5 s after the client went away");
            await Task.Delay(100);
        }
        var idleAt = clock.Elapsed;
        output.WriteLine($"whole generation: {fullTokens} tokens in {full.Elapsed.TotalSeconds:F2} s; cancelled after {cancelledAt.TotalSeconds:F2} s; engine idle at {idleAt.TotalSeconds:F2} s");
        // the engine stopped early, not because the generation had run to its end anyway
        Assert.True(fullTokens > LongTokens / 2, $"the uncancelled generation made only {fullTokens} tokens");
        Assert.True(idleAt < full.Elapsed * 0.8, $"the engine was idle only at {idleAt.TotalSeconds:F2} s; the whole generation takes {full.Elapsed.TotalSeconds:F2} s");
        await Api.AssertServesAsync(f);
    }
}
