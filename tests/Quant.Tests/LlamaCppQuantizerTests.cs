using System.Runtime.InteropServices;
using LLama;
using LLama.Native;
using OrleansLlm.Tests.Shared;
using OrleansLlm.Gguf;
using OrleansLlm.Native;

namespace OrleansLlm.Quant.Tests;

/// <summary>
/// Our Q8_0 / Q4_0 quantizer (orleansllm_quantize, the one model loading and `convert --type` use)
/// against llama.cpp's (llama_model_quantize through LLamaSharp 0.30) on the same F32 GGUF file,
/// which our converter writes from a `make-model` checkpoint: every tensor llama.cpp writes as Q8_0
/// or Q4_0 must have our bytes exactly, and so must every tensor our `convert --type` writes in
/// the same type.
/// </summary>
public sealed class LlamaCppQuantizerTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("olm-quant-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);


    /// <summary>A tiny F32 llama checkpoint, and its F32 GGUF from our converter.</summary>
    private (string HfDir, string F32Gguf) MakeF32Model(string preset)
    {
        string dir = Path.Combine(_root, "hf-" + preset);
        CliRunner.Run("make-model", "--preset", preset, "--dtype", "f32", "--out", dir);
        string gguf = Path.Combine(_root, preset + "-f32.gguf");
        CliRunner.Run("convert", "--to", "gguf", dir, gguf);
        return (dir, gguf);
    }

    [LlamaCppFact]
    public void Q8_0_tensors_match_llama_cpp_bit_for_bit() => CompareWithLlamaCpp(LLamaFtype.MOSTLY_Q8_0, "q8_0", GgufTensorType.Q8_0);

    [LlamaCppFact]
    public void Q4_0_tensors_match_llama_cpp_bit_for_bit() => CompareWithLlamaCpp(LLamaFtype.MOSTLY_Q4_0, "q4_0", GgufTensorType.Q4_0);

    private void CompareWithLlamaCpp(LLamaFtype ftype, string ourType, GgufTensorType tensorType)
    {
        var (hfDir, f32Path) = MakeF32Model("tiny");
        string llamaPath = Path.Combine(_root, $"llama-{ourType}.gguf");
        Assert.True(LLamaQuantizer.Quantize(f32Path, llamaPath, ftype, nthread: 2, allowRequantize: true, quantizeOutputTensor: true),
            "llama_model_quantize failed");
        string oursPath = Path.Combine(_root, $"ours-{ourType}.gguf");
        CliRunner.Run("convert", "--to", "gguf", "--type", ourType, hfDir, oursPath);

        var f32 = GgufReader.Read(f32Path);
        var llama = GgufReader.Read(llamaPath);
        var ours = GgufReader.Read(oursPath);
        int compared = 0, sameTypeInOurs = 0;
        foreach (var tensor in llama.Tensors.Where(t => t.Type is GgufTensorType.Q8_0 or GgufTensorType.Q4_0))
        {
            var source = f32.Tensor(tensor.Name)!;
            Assert.Equal(GgufTensorType.F32, source.Type);
            long columns = (long)tensor.Dimensions[0];
            long rows = tensor.Dimensions.Skip(1).Aggregate(1L, (p, d) => p * (long)d);
            var values = MemoryMarshal.Cast<byte, float>(f32.ReadTensorBytes(source)).ToArray();
            var type = tensor.Type == GgufTensorType.Q8_0 ? QuantizedType.Q8_0 : QuantizedType.Q4_0;
            var mine = new byte[NativeQuantizer.QuantizedBytes(type, rows, columns)];
            NativeQuantizer.Quantize(type, values, rows, columns, mine);
            AssertSameBlocks(tensor.Name, tensor.Type, llama.ReadTensorBytes(tensor), mine);
            compared++;
            if (ours.Tensor(tensor.Name) is { } converted && converted.Type == tensor.Type)
            {
                AssertSameBlocks(tensor.Name + " (convert --type)", tensor.Type, llama.ReadTensorBytes(tensor), ours.ReadTensorBytes(converted));
                sameTypeInOurs++;
            }
        }
        // Every layer matrix (2 layers × 7) is in the requested type in both files.
        Assert.True(llama.Tensors.Count(t => t.Type == tensorType) >= 14, $"llama.cpp wrote too few {tensorType} tensors");
        Assert.True(sameTypeInOurs >= 14, $"only {sameTypeInOurs} tensors of `convert --type {ourType}` had llama.cpp's type");
        Console.WriteLine($"[quant] {ourType}: {compared} llama.cpp tensors equal to our quantizer, {sameTypeInOurs} to our converter");
    }

    private static void AssertSameBlocks(string name, GgufTensorType type, byte[] expected, byte[] actual)
    {
        Assert.True(expected.Length == actual.Length, $"{name}: {expected.Length} bytes from llama.cpp, {actual.Length} ours");
        int blockBytes = type.BlockLayout().Bytes;
        int mismatched = 0, first = -1;
        for (int b = 0; b < expected.Length / blockBytes; b++)
        {
            if (!expected.AsSpan(b * blockBytes, blockBytes).SequenceEqual(actual.AsSpan(b * blockBytes, blockBytes)))
            {
                mismatched++;
                first = first < 0 ? b : first;
            }
        }
        if (mismatched == 0)
        {
            return;
        }
        Assert.Fail(
            $"{name} ({type}): {mismatched} of {expected.Length / blockBytes} blocks differ from llama.cpp's, the first is block {first}: " +
            $"llama.cpp {Convert.ToHexString(expected, first * blockBytes, blockBytes)}, ours {Convert.ToHexString(actual, first * blockBytes, blockBytes)}");
    }
}
