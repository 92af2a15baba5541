namespace OrleansLlm.Native.Tests;

/// <summary>The engine through the binding, on the tiny Llama of tests/golden/llama.</summary>
public sealed class NativeEngineTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly NativeModel _model = NativeModel.Load(RepoPaths.Golden("llama"), threadCount: 2);

    public void Dispose() => _model.Dispose();

    private static int[] Prompt(int length, int seed) => [.. Enumerable.Range(0, length).Select(i => 3 + (i * 37 + seed * 11) % 150)];

    private static SamplingOptions Greedy(int maxTokens) => SamplingOptions.Greedy(maxTokens) with { IgnoreEos = true };

    private static async Task<List<GeneratedToken>> Collect(IAsyncEnumerable<GeneratedToken> tokens, CancellationToken ct = default)
    {
        var list = new List<GeneratedToken>();
        await foreach (var t in tokens.WithCancellation(ct))
        {
            list.Add(t);
        }
        return list;
    }

    // Without CUDA (no plugin, no device) and with it (this model's head_dim 16 is outside the
    // kernels' whitelist) the answer is the same kind: unsupported, with the reason.
    [Fact]
    public void Cuda_backend_that_cannot_run_fails_with_unsupported_and_a_reason()
    {
        var ex = Assert.Throws<NativeException>(() => new NativeEngine(_model, new EngineOptions { Backend = EngineBackend.Cuda }));
        Assert.Equal(NativeStatus.Unsupported, ex.Status);
        Assert.Contains("cuda", ex.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Concurrent_requests_stream_the_same_tokens_as_each_alone()
    {
        var prompts = Enumerable.Range(0, 5).Select(i => Prompt(6 + 7 * i, i)).ToArray();
        var alone = new List<int[]>();
        using (var engine = new NativeEngine(_model, new EngineOptions { KvCacheBytes = 8 << 20, EnablePrefixCaching = false }))
        {
            foreach (var p in prompts)
            {
                alone.Add([.. (await Collect(engine.GenerateAsync(p, Greedy(10)))).Select(t => t.TokenId)]);
            }
        }
        using var batched = new NativeEngine(_model, new EngineOptions { KvCacheBytes = 8 << 20 });
        var runs = prompts.Select(p => Collect(batched.GenerateAsync(p, Greedy(10)))).ToArray();
        var results = await Task.WhenAll(runs).WaitAsync(Timeout);
        for (var i = 0; i < prompts.Length; i++)
        {
            Assert.Equal(alone[i], results[i].Select(t => t.TokenId));
            Assert.Equal(FinishReason.Length, results[i][^1].FinishReason);
            Assert.All(results[i][..^1], t => Assert.Null(t.FinishReason));
        }
        var stats = batched.GetStats();
        Assert.Equal(50, stats.GeneratedTokenCount);
        Assert.Equal(0, stats.BlocksUsed);
    }

    [Fact]
    public async Task Prefix_hits_are_reported_and_kv_events_carry_the_shared_hashes()
    {
        using var engine = new NativeEngine(_model, new EngineOptions { BlockSizeTokens = 4, KvCacheBytes = 8 << 20 });
        var events = new List<KvCacheEvent>();
        engine.KvCacheEventRaised += e =>
        {
            lock (events)
            {
                events.Add(e);
            }
        };
        var prompt = Prompt(22, 4);
        var salt = "tenant-a"u8.ToArray();
        var first = await Collect(engine.GenerateAsync(prompt, Greedy(3), salt)).WaitAsync(Timeout);
        Assert.Equal(0, first[0].CachedPromptTokens);
        var second = await Collect(engine.GenerateAsync(prompt, Greedy(3), salt)).WaitAsync(Timeout);
        Assert.Equal(20, second[0].CachedPromptTokens);
        Assert.Equal(first.Select(t => t.TokenId), second.Select(t => t.TokenId));
        var otherTenant = await Collect(engine.GenerateAsync(prompt, Greedy(1), "tenant-b"u8.ToArray())).WaitAsync(Timeout);
        Assert.Equal(0, otherTenant[0].CachedPromptTokens);

        var expected = BlockHash.Chain(prompt, 4, salt);
        List<BlockHash> stored;
        lock (events)
        {
            stored = [.. events.OfType<BlocksStored>().SelectMany(e => e.Hashes)];
        }
        Assert.True(expected.All(stored.Contains), "every full prompt block is reported stored under its C# hash");
        var stats = engine.GetStats();
        Assert.Equal(20, stats.PrefixHitTokens);
        Assert.True(stats.BlocksCached > 0);
    }

    [Fact]
    public async Task Cancelling_the_enumeration_aborts_the_request_and_frees_its_blocks()
    {
        using var engine = new NativeEngine(_model, new EngineOptions { KvCacheBytes = 8 << 20, MaxBatchedTokens = 16 });
        // The step thread holds still after the n-th step that produced output, until the test
        // has cancelled: the tiny model would otherwise outrun the consumer.
        using var gate = new SemaphoreSlim(0);
        var producingSteps = 0;
        var holdAfter = 3;
        engine.StepCompleted += step =>
        {
            if (step.Outputs > 0 && Interlocked.Increment(ref producingSteps) == Volatile.Read(ref holdAfter))
            {
                gate.Wait(Timeout);
            }
        };
        using var cts = new CancellationTokenSource();
        var received = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in engine.GenerateAsync(Prompt(40, 1), Greedy(400), cancellationToken: cts.Token))
            {
                if (++received == 3)
                {
                    await cts.CancelAsync();
                }
            }
        }).WaitAsync(Timeout);
        gate.Release();
        await WaitUntilIdle(engine);
        // The engine side of the cancellation: the request is gone and its blocks are free.
        var afterCancel = engine.GetStats();
        Assert.Equal(3, afterCancel.GeneratedTokenCount);
        Assert.Equal(0, afterCancel.RunningCount);
        Assert.Equal(0, afterCancel.WaitingCount);
        Assert.Equal(0, afterCancel.BlocksUsed);

        // Breaking out of the loop early aborts too.
        Volatile.Write(ref producingSteps, 0);
        Volatile.Write(ref holdAfter, 1);
        await foreach (var _ in engine.GenerateAsync(Prompt(10, 2), Greedy(400)))
        {
            break;
        }
        gate.Release();
        await WaitUntilIdle(engine);
        var stats = engine.GetStats();
        Assert.Equal(4, stats.GeneratedTokenCount);
        Assert.Equal(0, stats.RunningCount);
        Assert.Equal(0, stats.BlocksUsed);
        // Still serving.
        Assert.Equal(2, (await Collect(engine.GenerateAsync(Prompt(5, 3), Greedy(2))).WaitAsync(Timeout)).Count);
    }

    private static async Task WaitUntilIdle(NativeEngine engine)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (engine.GetStats() is { RunningCount: > 0 } or { WaitingCount: > 0 })
        {
            Assert.True(DateTime.UtcNow < deadline, "the engine still runs or queues a request it should have dropped");
            await Task.Delay(5);
        }
    }

    [Fact]
    public async Task Bad_input_throws_a_native_exception_and_the_engine_keeps_serving()
    {
        using var engine = new NativeEngine(_model, new EngineOptions { KvCacheBytes = 8 << 20, MaxModelLength = 64 });
        var empty = await Assert.ThrowsAsync<NativeException>(() => Collect(engine.GenerateAsync([], Greedy(1))));
        Assert.Equal(NativeStatus.InvalidArgument, empty.Status);
        var outOfVocab = await Assert.ThrowsAsync<NativeException>(() => Collect(engine.GenerateAsync([1, 100000], Greedy(1))));
        Assert.Contains("vocabulary", outOfVocab.Message);
        var tooLong = await Assert.ThrowsAsync<NativeException>(() => Collect(engine.GenerateAsync(Prompt(64, 1), Greedy(1))));
        Assert.Equal(NativeStatus.Capacity, tooLong.Status);
        var badTopP = await Assert.ThrowsAsync<NativeException>(() => Collect(engine.GenerateAsync([1, 2], Greedy(1) with { TopP = 2 })));
        Assert.Contains("top_p", badTopP.Message);
        var tokens = await Collect(engine.GenerateAsync(Prompt(8, 1), Greedy(4))).WaitAsync(Timeout);
        Assert.Equal(4, tokens.Count);
        Assert.Throws<NativeException>(() => new NativeEngine(_model, new EngineOptions { KvCacheBytes = 1 }));
    }

    [Fact]
    public async Task Seeded_sampling_with_logprobs_is_reproducible()
    {
        using var engine = new NativeEngine(_model, new EngineOptions { KvCacheBytes = 8 << 20 });
        var sampling = new SamplingOptions { Temperature = 0.8f, TopP = 0.9f, Seed = 7, MaxTokens = 12, IgnoreEos = true, Logprobs = true, TopLogprobs = 3 };
        var noise = Collect(engine.GenerateAsync(Prompt(30, 5), sampling with { Seed = null, MaxTokens = 30 }));
        var a = await Collect(engine.GenerateAsync(Prompt(9, 2), sampling)).WaitAsync(Timeout);
        var b = await Collect(engine.GenerateAsync(Prompt(9, 2), sampling)).WaitAsync(Timeout);
        await noise.WaitAsync(Timeout);
        Assert.Equal(a.Select(t => t.TokenId), b.Select(t => t.TokenId));
        Assert.All(a, t =>
        {
            Assert.NotNull(t.Logprob);
            Assert.True(t.Logprob <= 0);
            Assert.Equal(3, t.TopLogprobs.Count);
            Assert.True(t.TopLogprobs[0].Logprob >= t.TopLogprobs[2].Logprob);
        });
    }
}
