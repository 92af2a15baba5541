using System.Runtime.InteropServices;
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
/// tensors) loads in our engine, computes close to the F32 model, and gives llama.cpp's logits; and our
/// own Q4_K_M of the same checkpoint (`convert --type q4_k_m`) has llama.cpp's type in every tensor
/// and no more quantization error in any.
/// </summary>
public sealed class LlamaCppQ4KmFileTests : IDisposable
{
    private static readonly int[] Prompt = [1, 17, 300, 4000, 42, 9, 1234, 77];
    private readonly string _root = Directory.CreateTempSubdirectory("olm-q4km-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);


    private (string HfDir, string F32, string Q4KM) MakeFiles()
    {
        string dir = Path.Combine(_root, "hf");
        CliRunner.Run("make-model", "--preset", "smollm2-135m", "--dtype", "f32", "--out", dir);
        string f32 = Path.Combine(_root, "f32.gguf");
        CliRunner.Run("convert", "--to", "gguf", dir, f32);
        string q4km = Path.Combine(_root, "q4_k_m.gguf");
        Assert.True(LLamaQuantizer.Quantize(f32, q4km, LLamaFtype.MOSTLY_Q4_K_M, nthread: 2, allowRequantize: true, quantizeOutputTensor: true),
            "llama_model_quantize failed");
        return (dir, f32, q4km);
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
        var (_, f32, q4km) = MakeFiles();
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

    [LlamaCppFact]
    public void Our_Q4_K_M_has_llama_cpps_types_and_no_more_error()
    {
        var (hfDir, f32Path, llamaPath) = MakeFiles();
        string oursPath = Path.Combine(_root, "ours-q4_k_m.gguf");
        CliRunner.Run("convert", "--to", "gguf", "--type", "q4_k_m", hfDir, oursPath);
        var f32 = GgufReader.Read(f32Path);
        var llama = GgufReader.Read(llamaPath);
        var ours = GgufReader.Read(oursPath);
        Assert.Equal(15L, ours.Metadata.GetInteger("general.file_type"));
        var seen = new Dictionary<GgufTensorType, int>();
        var identical = new Dictionary<GgufTensorType, int>();
        double worstRatio = 0;
        foreach (var tensor in llama.Tensors.Where(t => t.Dimensions.Count == 2))
        {
            var mine = ours.Tensor(tensor.Name) ?? throw new Xunit.Sdk.XunitException($"{tensor.Name} missing from our file");
            Assert.True(tensor.Type == mine.Type, $"{tensor.Name}: llama.cpp wrote {tensor.Type}, we wrote {mine.Type}");
            seen[tensor.Type] = seen.GetValueOrDefault(tensor.Type) + 1;
            long columns = (long)tensor.Dimensions[0], rows = (long)tensor.Dimensions[1];
            var type = (QuantizedType)(tensor.Type switch
            {
                GgufTensorType.Q8_0 => 3, GgufTensorType.Q4_0 => 4, GgufTensorType.Q5_0 => 5,
                GgufTensorType.Q4_K => 7, GgufTensorType.Q6_K => 8,
                _ => throw new Xunit.Sdk.XunitException($"{tensor.Name}: unexpected type {tensor.Type}"),
            });
            var x = MemoryMarshal.Cast<byte, float>(f32.ReadTensorBytes(f32.Tensor(tensor.Name)!)).ToArray();
            byte[] llamaBytes = llama.ReadTensorBytes(tensor), ourBytes = ours.ReadTensorBytes(mine);
            identical[tensor.Type] = identical.GetValueOrDefault(tensor.Type) + (llamaBytes.AsSpan().SequenceEqual(ourBytes) ? 1 : 0);
            double llamaError = RmsError(x, NativeQuantizer.Dequantize(type, llamaBytes, rows, columns));
            double ourError = RmsError(x, NativeQuantizer.Dequantize(type, ourBytes, rows, columns));
            // Same rules, but float rounding (fused multiply-adds, summation order) may pick another grid
            // for a sub-block now and then: a relative 1e-3 of slack.
            Assert.True(ourError <= llamaError * 1.001 + 1e-12,
                $"{tensor.Name} ({tensor.Type}): RMS error ours {ourError:E4}, llama.cpp {llamaError:E4}");
            worstRatio = Math.Max(worstRatio, ourError / Math.Max(llamaError, 1e-30));
        }
        foreach (var t in new[] { GgufTensorType.Q4_K, GgufTensorType.Q6_K, GgufTensorType.Q5_0, GgufTensorType.Q8_0 })
        {
            Assert.True(seen.ContainsKey(t), $"llama.cpp's Q4_K_M of a 576-wide model should hold {t}");
        }
        Console.WriteLine($"[quant] our Q4_K_M vs llama.cpp's: every tensor's type equal; byte-identical tensors per type: " +
            $"{string.Join(", ", seen.OrderBy(p => p.Key).Select(p => $"{p.Key} {identical[p.Key]} of {p.Value}"))}; " +
            $"worst RMS error ratio ours/llama.cpp {worstRatio:F6}");
    }

    private static double RmsError(float[] x, float[] y)
    {
        double sum = 0;
        for (int i = 0; i < x.Length; i++)
        {
            sum += ((double)y[i] - x[i]) * ((double)y[i] - x[i]);
        }
        return Math.Sqrt(sum / x.Length);
    }
}
