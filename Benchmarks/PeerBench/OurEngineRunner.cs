using System.Diagnostics;
using OrleansLlm.Native;

namespace OrleansLlm.PeerBench;

/// <summary>Our engine's side of every measurement: a <see cref="NativeContext"/> for one
/// sequence, <see cref="NativeEngine"/> (continuous batching) for several.</summary>
internal sealed class OurEngineRunner : IPeerEngine
{
    private readonly NativeModel _model;
    private readonly int _threads;

    public OurEngineRunner(string ggufPath, int threads, KvCacheType kvCache = KvCacheType.ModelDefault)
    {
        _threads = threads;
        _model = NativeModel.Load(ggufPath, threads, kvCache: kvCache);
    }

    public ModelDescription Description => _model.Description;

    /// <inheritdoc/>
    public float[] TeacherForcedLogits(int[] tokens)
    {
        using var context = _model.CreateContext(tokens.Length);
        return context.EvalAll(tokens);
    }

    /// <inheritdoc/>
    public double PrefillSeconds(int[] prompt, int runs)
    {
        using var context = _model.CreateContext(prompt.Length);
        var best = double.MaxValue;
        for (var run = 0; run <= runs; run++)
        {
            context.Reset();
            var sw = Stopwatch.StartNew();
            context.Eval(prompt);
            if (run > 0)
            {
                best = Math.Min(best, sw.Elapsed.TotalSeconds);  // run 0 warms up
            }
        }
        return best;
    }

    /// <inheritdoc/>
    public double DecodeSeconds(int[] prompt, int decodeTokens, int runs)
    {
        using var context = _model.CreateContext(prompt.Length + decodeTokens + 1);
        var logits = new float[_model.Description.VocabSize];
        var best = double.MaxValue;
        for (var run = 0; run < runs; run++)
        {
            context.Reset();
            context.Eval(prompt, logits);
            var next = Logits.ArgMax(logits);
            var sw = Stopwatch.StartNew();
            for (var i = 0; i < decodeTokens; i++)
            {
                context.Eval([next], logits);
                next = Logits.ArgMax(logits);
            }
            best = Math.Min(best, sw.Elapsed.TotalSeconds);
        }
        return best;
    }

    /// <summary>Seconds of the engine steps in which every sequence decoded one token, each
    /// sequence generating <paramref name="steps"/> tokens after its prompt (greedy, eos ignored);
    /// the prefill steps are not counted. Returns the seconds and the tokens those steps made.</summary>
    public (double Seconds, long Tokens) BatchedDecode(int[][] prompts, int steps)
    {
        var n = prompts.Length;
        var promptTokens = prompts.Sum(p => p.Length);
        using var engine = new NativeEngine(_model, new EngineOptions
        {
            ThreadCount = _threads,
            MaxRunningRequests = n,
            EnablePrefixCaching = false,
            KvCacheBytes = Math.Max(64L << 20, (promptTokens + n * (steps + 2) + 16L * n) * _model.Description.KvBytesPerToken),
        });
        var seconds = 0.0;
        var tokens = 0L;
        engine.StepCompleted += step =>
        {
            if (step.ScheduledRequests == n && step.ScheduledTokens == n)
            {
                seconds += step.Duration.TotalSeconds;
                tokens += n;
            }
        };
        // The prefill's step makes each sequence's first token; every later step is a decode step.
        var sampling = new SamplingOptions { Temperature = 0, MaxTokens = steps + 1, IgnoreEos = true };
        var runs = prompts.Select(async prompt =>
        {
            var count = 0;
            await foreach (var _ in engine.GenerateAsync(prompt, sampling).ConfigureAwait(false))
            {
                count++;
            }
            return count;
        }).ToArray();
        Task.WaitAll(runs);
        if (tokens == 0)
        {
            throw new InvalidOperationException($"no decode step ran all {n} sequences together in {steps} steps: give more steps");
        }
        return (seconds, tokens);
    }

    public void Dispose() => _model.Dispose();
}
