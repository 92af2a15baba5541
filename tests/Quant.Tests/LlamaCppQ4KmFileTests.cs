using LLama;
using LLama.Common;
using LLama.Native;
using OrleansLlm.Tests.Shared;
using OrleansLlm.Gguf;
using OrleansLlm.Native;

namespace OrleansLlm.Quant.Tests;

/// <summary>
/// A Q4_K_M file written by llama.cpp (llama_model_quantize through LLamaSharp) from our F32 GGUF of
/// a SmolLM2-135M-shaped checkpoint (576 wide: llama.cpp's mix holds q5_0, q8_0, q4_K and q6_K
/// tensors) loads in our engine, computes close to the F32 model, and gives llama.cpp's logits.
/// </summary>
public sealed class LlamaCppQ4KmFileTests : IDisposable
{
    private static readonly int[] Prompt = [1, 17, 300, 4000, 42, 9, 1234, 77];
    private readonly string _root = Directory.CreateTempSubdirectory("olm-q4km-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);


    private (string F32, string Q4KM) MakeFiles()
    {
        string dir = Path.Combine(_root, "hf");
        CliRunner.Run("make-model", "--preset", "smollm2-135m", "--dtype", "f32", "--out", dir);
        string f32 = Path.Combine(_root, "f32.gguf");
        CliRunner.Run("convert", "--to", "gguf", dir, f32);
        string q4km = Path.Combine(_root, "q4_k_m.gguf");
        Assert.True(LLamaQuantizer.Quantize(f32, q4km, LLamaFtype.MOSTLY_Q4_K_M, nthread: 2, allowRequantize: true, quantizeOutputTensor: true),
            "llama_model_quantize failed");
        return (f32, q4km);
    }

    private static float[] OurLogits(string path)
    {
        using var model = NativeModel.Load(path, threadCount: 2);
        using var context = model.CreateContext(64);
        return context.EvalAll(Prompt);
    }

    private static float[] LlamaCppLogits(string path, int vocab)
    {
        var parameters = new ModelParams(path) { ContextSize = 64, GpuLayerCount = 0, Threads = 2, BatchSize = 64 };
        using var weights = LLamaWeights.LoadFromFile(parameters);
        using var context = weights.CreateContext(parameters);
        var batch = new LLamaBatch();
        for (int i = 0; i < Prompt.Length; i++)
        {
            batch.Add(Prompt[i], i, LLamaSeqId.Zero, true);
        }
        Assert.Equal(DecodeResult.Ok, context.Decode(batch));
        var all = new float[Prompt.Length * vocab];
        for (int i = 0; i < Prompt.Length; i++)
        {
            context.NativeHandle.GetLogitsIth(i).CopyTo(all.AsSpan(i * vocab, vocab));
        }
        return all;
    }

    private static double MinRowCosine(float[] a, float[] b, int vocab)
    {
        double worst = 1;
        for (int r = 0; r < a.Length / vocab; r++)
        {
            double dot = 0, na = 0, nb = 0;
            for (int i = r * vocab; i < (r + 1) * vocab; i++)
            {
                dot += (double)a[i] * b[i];
                na += (double)a[i] * a[i];
                nb += (double)b[i] * b[i];
            }
            worst = Math.Min(worst, dot / Math.Sqrt(na * nb));
        }
        return worst;
    }

    [LlamaCppFact]
    public void Q4_K_M_file_loads_and_matches_llama_cpp()
    {
        var (f32, q4km) = MakeFiles();
        var types = GgufReader.Read(q4km).Tensors.Where(t => t.Dimensions.Count == 2).Select(t => t.Type).ToHashSet();
        Assert.Contains(GgufTensorType.Q4_K, types);
        Assert.Contains(GgufTensorType.Q6_K, types);
        Console.WriteLine($"[quant] llama.cpp Q4_K_M matrix types: {string.Join(", ", types.Order())}");

        int vocab;
        using (var model = NativeModel.Load(q4km, threadCount: 2))
        {
            vocab = model.Description.VocabSize;
        }
        var ours = OurLogits(q4km);
        var reference = OurLogits(f32);
        var llama = LlamaCppLogits(q4km, vocab);
        double vsF32 = MinRowCosine(ours, reference, vocab), vsLlama = MinRowCosine(ours, llama, vocab);
        Console.WriteLine($"[quant] Q4_K_M min logit-row cosine: ours vs our F32 {vsF32:F6}, ours vs llama.cpp on the same file {vsLlama:F6}");
        Assert.True(vsLlama >= 0.999, $"our logits vs llama.cpp's on its Q4_K_M file: cosine {vsLlama}");
        Assert.True(vsF32 >= 0.9, $"Q4_K_M vs F32: cosine {vsF32}");
    }
}
