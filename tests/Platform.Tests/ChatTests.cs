using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using OpenAI.Chat;

namespace OrleansLlm.Platform.Tests;

#pragma warning disable OPENAI001 // Seed is experimental in the client

/// <summary>Chat and completions through the official OpenAI client and raw HTTP.</summary>
[Collection(PlatformCollection.Name)]
public sealed class ChatTests(PlatformFixture f)
{
    private static readonly ChatMessage[] s_hello = [new SystemChatMessage("You are a test."), new UserChatMessage("Say something.")];

    [Fact]
    public async Task Non_streaming_chat_answers_with_consistent_usage()
    {
        var client = Api.ChatClient(f);
        var completion = (await client.CompleteChatAsync(s_hello, new ChatCompletionOptions { MaxOutputTokenCount = 12, Temperature = 0 })).Value;

        Assert.Equal(ChatMessageRole.Assistant, completion.Role);
        Assert.Contains(completion.FinishReason, new[] { ChatFinishReason.Stop, ChatFinishReason.Length });
        Assert.True(completion.Usage.InputTokenCount > 0);
        Assert.InRange(completion.Usage.OutputTokenCount, 1, 12);
        Assert.Equal(completion.Usage.InputTokenCount + completion.Usage.OutputTokenCount, completion.Usage.TotalTokenCount);
        if (completion.FinishReason == ChatFinishReason.Length)
        {
            Assert.Equal(12, completion.Usage.OutputTokenCount);
            Assert.NotEmpty(completion.Content[0].Text);
        }
    }

    [Fact]
    public async Task Streaming_chat_gives_the_same_text_as_non_streaming_and_ends_with_usage()
    {
        var client = Api.ChatClient(f);
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 24, Temperature = 0 };
        var whole = (await client.CompleteChatAsync(s_hello, options)).Value;

        var text = new StringBuilder();
        ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        var updates = 0;
        await foreach (var update in client.CompleteChatStreamingAsync(s_hello, new ChatCompletionOptions { MaxOutputTokenCount = 24, Temperature = 0 }))
        {
            updates++;
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }
            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }

        Assert.True(updates > 1, $"a stream of {updates} update(s)");
        Assert.Equal(whole.Content[0].Text, text.ToString());
        Assert.Equal(whole.FinishReason, finish);
        Assert.NotNull(usage);
        Assert.Equal(whole.Usage.InputTokenCount, usage.InputTokenCount);
        Assert.Equal(whole.Usage.OutputTokenCount, usage.OutputTokenCount);
        Assert.Equal(usage.InputTokenCount + usage.OutputTokenCount, usage.TotalTokenCount);
    }

    [Fact]
    public async Task Completions_answer_a_raw_prompt_streamed_or_not()
    {
        var body = new JsonObject { ["model"] = PlatformFixture.Model, ["prompt"] = "Once upon a time", ["max_tokens"] = 10, ["temperature"] = 0 };
        var (status, reply) = await Api.PostAsync(f, "/v1/completions", body);
        Assert.True(status == HttpStatusCode.OK, reply?.ToJsonString());
        Assert.Equal("text_completion", (string?)reply!["object"]);
        var choice = reply["choices"]![0]!;
        Assert.Equal(0, (int)choice["index"]!);
        Assert.Contains((string?)choice["finish_reason"], new[] { "stop", "length" });
        var usage = reply["usage"]!;
        Assert.Equal((int)usage["prompt_tokens"]! + (int)usage["completion_tokens"]!, (int)usage["total_tokens"]!);
        if ((string?)choice["finish_reason"] == "length")
        {
            Assert.Equal(10, (int)usage["completion_tokens"]!);
        }

        body["stream"] = true;
        await using var stream = await SseStream.OpenAsync(f.Http, Api.Post("/v1/completions", body.ToJsonString()));
        Assert.Equal(HttpStatusCode.OK, stream.Status);
        var events = await stream.RestAsync();
        Assert.Equal("[DONE]", events[^1]);
        var text = string.Concat(events.SkipLast(1).Select(e => (string?)JsonNode.Parse(e)!["choices"]![0]!["text"] ?? ""));
        Assert.Equal((string)choice["text"]!, text);
    }

    [Fact]
    public async Task Completions_with_echo_start_with_the_prompt()
    {
        const string prompt = "Echo this prompt:";
        var body = new JsonObject { ["model"] = PlatformFixture.Model, ["prompt"] = prompt, ["max_tokens"] = 8, ["temperature"] = 0 };
        var (_, plain) = await Api.PostAsync(f, "/v1/completions", body);
        var generated = (string)plain!["choices"]![0]!["text"]!;

        body["echo"] = true;
        var (status, echoed) = await Api.PostAsync(f, "/v1/completions", body);
        Assert.True(status == HttpStatusCode.OK, echoed?.ToJsonString());
        Assert.Equal(prompt + generated, (string?)echoed!["choices"]![0]!["text"]);
        Assert.Equal(plain["usage"]!.ToJsonString(), echoed["usage"]!.ToJsonString());

        body["stream"] = true;
        await using var stream = await SseStream.OpenAsync(f.Http, Api.Post("/v1/completions", body.ToJsonString()));
        var events = await stream.RestAsync();
        Assert.Equal("[DONE]", events[^1]);
        Assert.Equal(prompt + generated, string.Concat(events.SkipLast(1).Select(e => (string?)JsonNode.Parse(e)!["choices"]![0]!["text"] ?? "")));
    }

    [Fact]
    public async Task A_stop_string_ends_the_text_before_it_with_finish_reason_stop()
    {
        // greedy output first, then a stop string taken from its middle, so it is sure to occur
        var (status, first) = await Api.PostAsync(f, "/v1/chat/completions", Api.Chat("Tell me a story.", maxTokens: 40, extra: new() { ["ignore_eos"] = true }));
        Assert.Equal(HttpStatusCode.OK, status);
        var full = Api.Text(first!);
        Assert.True(full.Length >= 12, $"the greedy output is too short to take a stop string from: '{full}'");
        var stop = full.Substring(full.Length / 2, 3);
        var at = full.IndexOf(stop, StringComparison.Ordinal);

        var (status2, stopped) = await Api.PostAsync(f, "/v1/chat/completions", Api.Chat("Tell me a story.", maxTokens: 40, extra: new() { ["stop"] = new JsonArray(stop, "\u0001never\u0001") }));
        Assert.Equal(HttpStatusCode.OK, status2);
        var text = Api.Text(stopped!);
        Assert.DoesNotContain(stop, text);
        Assert.Equal(full[..at], text);
        Assert.Equal("stop", (string?)stopped!["choices"]![0]!["finish_reason"]);

        // streamed: the stop string never reaches the client either
        var client = Api.ChatClient(f);
        var streamed = new StringBuilder();
        ChatFinishReason? finish = null;
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 40, Temperature = 0 };
        options.StopSequences.Add(stop);
        await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage("Tell me a story.")], options))
        {
            foreach (var part in update.ContentUpdate)
            {
                streamed.Append(part.Text);
            }
            finish ??= update.FinishReason;
        }
        Assert.Equal(full[..at], streamed.ToString());
        Assert.Equal(ChatFinishReason.Stop, finish);
    }

    [Fact]
    public async Task The_same_seed_gives_the_same_text_and_temperature_zero_is_deterministic()
    {
        var client = Api.ChatClient(f);
        async Task<string> Ask(float temperature, long? seed) =>
            (await client.CompleteChatAsync(s_hello, new ChatCompletionOptions { MaxOutputTokenCount = 24, Temperature = temperature, Seed = seed })).Value.Content[0].Text;

        var a = await Ask(1, 42);
        var b = await Ask(1, 42);
        Assert.Equal(a, b);
        var other = await Ask(1, 4242);
        Assert.NotEqual(a, other);

        var g1 = await Ask(0, null);
        var g2 = await Ask(0, null);
        Assert.Equal(g1, g2);
    }

    [Fact]
    public async Task N_choices_come_back_indexed_with_usage_over_all_of_them()
    {
        var (status, body) = await Api.PostAsync(f, "/v1/chat/completions",
            Api.Chat("Pick a word.", maxTokens: 8, temperature: 1, extra: new() { ["n"] = 3, ["seed"] = 7 }));
        Assert.True(status == HttpStatusCode.OK, body?.ToJsonString());
        var choices = body!["choices"]!.AsArray();
        Assert.Equal(3, choices.Count);
        Assert.Equal([0, 1, 2], choices.Select(c => (int)c!["index"]!).ToArray());
        Assert.All(choices, c => Assert.NotNull((string?)c!["message"]!["content"]));
        var usage = body["usage"]!;
        var completion = (int)usage["completion_tokens"]!;
        Assert.InRange(completion, 3, 24);
        Assert.Equal((int)usage["prompt_tokens"]! + completion, (int)usage["total_tokens"]!);
        if (choices.All(c => (string?)c!["finish_reason"] == "length"))
        {
            Assert.Equal(24, completion);
        }
        // each choice samples its own stream: three times the same 8 tokens would mean they share one
        Assert.True(choices.Select(c => (string)c!["message"]!["content"]!).Distinct().Count() > 1, body.ToJsonString());
    }

    [Fact]
    public async Task Usage_counts_the_prompt_as_tokenize_does_and_max_tokens_when_cut_by_length()
    {
        var chat = Api.Chat("Count my tokens, please.", maxTokens: 9, system: "Be brief.", extra: new() { ["ignore_eos"] = true });
        var (_, tokenized) = await Api.PostAsync(f, "/tokenize", new JsonObject { ["model"] = PlatformFixture.Model, ["messages"] = chat["messages"]!.DeepClone() });
        var (status, body) = await Api.PostAsync(f, "/v1/chat/completions", chat);
        Assert.True(status == HttpStatusCode.OK, body?.ToJsonString());
        var usage = body!["usage"]!;
        Assert.Equal((int)tokenized!["count"]!, (int)usage["prompt_tokens"]!);
        // ignore_eos: the end-of-sequence token does not stop it, max_tokens does
        Assert.Equal("length", (string?)body["choices"]![0]!["finish_reason"]);
        Assert.Equal(9, (int)usage["completion_tokens"]!);
        Assert.Equal((int)usage["prompt_tokens"]! + (int)usage["completion_tokens"]!, (int)usage["total_tokens"]!);
    }

    [Fact]
    public async Task Logprobs_come_per_token_with_sorted_alternatives_and_greedy_picks_the_top_one()
    {
        var client = Api.ChatClient(f);
        var completion = (await client.CompleteChatAsync(s_hello, new ChatCompletionOptions
        {
            MaxOutputTokenCount = 10, Temperature = 0, IncludeLogProbabilities = true, TopLogProbabilityCount = 3,
        })).Value;
        var logprobs = completion.ContentTokenLogProbabilities;
        Assert.Equal(completion.Usage.OutputTokenCount, logprobs.Count);
        foreach (var token in logprobs)
        {
            Assert.True(token.LogProbability <= 0, $"logprob {token.LogProbability} > 0");
            Assert.Equal(3, token.TopLogProbabilities.Count);
            var top = token.TopLogProbabilities.Select(t => t.LogProbability).ToArray();
            Assert.Equal(top.OrderByDescending(x => x).ToArray(), top);
            // greedy: the chosen token is the most likely one
            Assert.Equal(top[0], token.LogProbability, 3);
            Assert.Equal(Encoding.UTF8.GetBytes(token.Token), token.Utf8Bytes!.Value.ToArray());
        }
        Assert.Equal(completion.Content[0].Text, string.Concat(logprobs.Select(l => l.Token)));
    }

    [Fact]
    public async Task The_engine_header_names_the_serving_engine_and_live_admin_lists_every_engine()
    {
        await using (var stream = await SseStream.OpenAsync(f.Http, Api.Post("/v1/chat/completions",
            Api.Chat("Which engine?", maxTokens: 4, extra: new() { ["stream"] = true }).ToJsonString())))
        {
            Assert.Equal(HttpStatusCode.OK, stream.Status);
            var engine = stream.Engine;
            Assert.Contains("[DONE]", await stream.RestAsync());
            var live = await f.EnginesAsync(live: true);
            Assert.True(live.ContainsKey(engine), $"the header names '{engine}', not an engine of /admin/cluster?live=true");
            Assert.Equal(PlatformFixture.Model, (string?)live[engine]["model"]);
            Assert.Equal((await f.EnginesAsync()).Keys.Order(), live.Keys.Order());
        }

        // n choices: one engine per choice, in order
        using var response = await f.Http.SendAsync(Api.Post("/v1/chat/completions", Api.Chat("Two of them", maxTokens: 2, extra: new() { ["n"] = 2 }).ToJsonString()));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var engines = response.Headers.GetValues("X-OrleansLlm-Engine").Single().Split(',');
        Assert.Equal(2, engines.Length);
        Assert.All(engines, e => Assert.Matches("^silo-[0-9]+/cpu[0-9]+$", e));
    }
}
