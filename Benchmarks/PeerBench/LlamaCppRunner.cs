using System.Diagnostics;
using LLama.Native;
using OrleansLlm.Native;

namespace OrleansLlm.PeerBench;

/// <summary>The llama.cpp side of every measurement, through LLamaSharp's low-level API
/// (llama_batch, llama_decode, llama_get_logits_ith), CPU only, on <c>threads</c> threads.</summary>
internal sealed class LlamaCppRunner : IPeerEngine
{
    private readonly SafeLlamaModelHandle _model;
    private readonly int _threads;

    public LlamaCppRunner(string ggufPath, int threads)
    {
        _threads = threads;
        var parameters = LLamaModelParams.Default();
        parameters.n_gpu_layers = 0;
        _model = SafeLlamaModelHandle.LoadFromFile(ggufPath, parameters);
        VocabSize = _model.Vocab.Count;
        var architecture = _model.MetadataValueByKey("general.architecture");
        Architecture = architecture is { } bytes ? System.Text.Encoding.UTF8.GetString(bytes.Span).TrimEnd('\0') : "unknown";
    }

    public int VocabSize { get; }

    /// <summary>general.architecture as llama.cpp read it.</summary>
    public string Architecture { get; }

    float[] IPeerEngine.TeacherForcedLogits(int[] tokens) => TeacherForcedLogits(tokens);

    /// <summary>Logits of every position of <paramref name="tokens"/>, one batch from position 0
    /// ([tokens, vocab]), in a context with <paramref name="settings"/> (null: llama.cpp's defaults).</summary>
    public float[] TeacherForcedLogits(int[] tokens, LlamaCppContextSettings? settings = null)
    {
        using var context = CreateContext(contextTokens: tokens.Length, sequences: 1, batchTokens: tokens.Length, settings);
        var batch = new LLamaBatch();
        for (var i = 0; i < tokens.Length; i++)
        {
            batch.Add(tokens[i], i, LLamaSeqId.Zero, logits: true);
        }
        Decode(context, batch);
        var logits = new float[(long)tokens.Length * VocabSize];
        for (var i = 0; i < tokens.Length; i++)
        {
            context.GetLogitsIth(i).CopyTo(logits.AsSpan(i * VocabSize, VocabSize));
        }
        return logits;
    }

    /// <inheritdoc/>
    public double PrefillSeconds(int[] prompt, int runs)
    {
        using var context = CreateContext(prompt.Length, 1, prompt.Length);
        var best = double.MaxValue;
        for (var run = 0; run <= runs; run++)
        {
            context.MemoryClear(true);
            var batch = PromptBatch(prompt, LLamaSeqId.Zero);
            var sw = Stopwatch.StartNew();
            Decode(context, batch);
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
        using var context = CreateContext(prompt.Length + decodeTokens + 1, 1, prompt.Length);
        var best = double.MaxValue;
        var batch = new LLamaBatch();
        for (var run = 0; run < runs; run++)
        {
            context.MemoryClear(true);
            Decode(context, PromptBatch(prompt, LLamaSeqId.Zero));
            var next = Logits.ArgMax(context.GetLogitsIth(prompt.Length - 1));
            var sw = Stopwatch.StartNew();
            for (var i = 0; i < decodeTokens; i++)
            {
                batch.Clear();
                batch.Add(next, prompt.Length + i, LLamaSeqId.Zero, logits: true);
                Decode(context, batch);
                next = Logits.ArgMax(context.GetLogitsIth(0));
            }
            best = Math.Min(best, sw.Elapsed.TotalSeconds);
        }
        return best;
    }

    /// <inheritdoc/>
    public (double Seconds, long Tokens) BatchedDecode(int[][] prompts, int steps)
    {
        var n = prompts.Length;
        var promptTokens = prompts.Sum(p => p.Length);
        using var context = CreateContext(promptTokens + n * (steps + 1), n, Math.Max(n, prompts.Max(p => p.Length)));
        var next = new int[n];
        for (var s = 0; s < n; s++)
        {
            Decode(context, PromptBatch(prompts[s], (LLamaSeqId)s));
            next[s] = Logits.ArgMax(context.GetLogitsIth(prompts[s].Length - 1));
        }
        var batch = new LLamaBatch();
        var sw = Stopwatch.StartNew();
        for (var step = 0; step < steps; step++)
        {
            batch.Clear();
            for (var s = 0; s < n; s++)
            {
                batch.Add(next[s], prompts[s].Length + step, (LLamaSeqId)s, logits: true);
            }
            Decode(context, batch);
            for (var s = 0; s < n; s++)
            {
                next[s] = Logits.ArgMax(context.GetLogitsIth(s));
            }
        }
        return (sw.Elapsed.TotalSeconds, (long)n * steps);
    }

    public void Dispose() => _model.Dispose();

    private SafeLLamaContextHandle CreateContext(int contextTokens, int sequences, int batchTokens, LlamaCppContextSettings? settings = null)
    {
        var parameters = LLamaContextParams.Default();
        // llama.cpp rounds the context up to a multiple of 256 and splits it between sequences
        // unless the KV cache is unified; a unified cache holds every sequence's tokens in one pool.
        parameters.n_ctx = (uint)(contextTokens + 256);
        parameters.n_batch = (uint)Math.Max(batchTokens, 1);
        parameters.n_ubatch = (uint)Math.Max(batchTokens, 1);
        parameters.n_seq_max = (uint)sequences;
        parameters.kv_unified = true;
        parameters.n_threads = _threads;
        parameters.n_threads_batch = _threads;
        settings?.ApplyTo(ref parameters);
        return SafeLLamaContextHandle.Create(_model, parameters);
    }

    private static LLamaBatch PromptBatch(int[] prompt, LLamaSeqId sequence)
    {
        var batch = new LLamaBatch();
        for (var i = 0; i < prompt.Length; i++)
        {
            batch.Add(prompt[i], i, sequence, logits: i == prompt.Length - 1);
        }
        return batch;
    }

    private static void Decode(SafeLLamaContextHandle context, LLamaBatch batch)
    {
        var result = context.Decode(batch);
        if (result != DecodeResult.Ok)
        {
            throw new InvalidOperationException($"llama_decode of {batch.TokenCount} tokens failed: {result}");
        }
    }
}
