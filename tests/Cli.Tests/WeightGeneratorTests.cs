using System.Text.Json;
using OrleansLlm.Cli.ModelMaking;

namespace OrleansLlm.Cli.Tests;

public class WeightGeneratorTests
{
    private static readonly TensorSpec _matrix = new("model.layers.0.mlp.up_proj.weight", [300, 700], TensorInit.Weight);

    private static byte[] Generate(TensorSpec tensor, ulong seed, TensorDType dtype)
    {
        int count = checked((int)tensor.ElementCount);
        var bytes = new byte[count * dtype.ByteSize()];
        WeightGenerator.Fill(bytes, tensor, seed, dtype, 0, count);
        return bytes;
    }

    private static float[] Values(TensorSpec tensor, ulong seed)
    {
        var bytes = Generate(tensor, seed, TensorDType.F32);
        var values = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        return values;
    }

    [Theory]
    [InlineData("", 0xCBF29CE484222325UL)]  // the FNV-1a 64 offset basis
    [InlineData("a", 0xAF63DC4C8601EC8CUL)] // published FNV-1a 64 test vector
    [InlineData("foobar", 0x85944171F73967E8UL)]
    public void StableHash_is_FNV1a_64(string text, ulong expected)
    {
        Assert.Equal(expected, WeightGenerator.StableHash(text));
    }

    [Fact]
    public void Same_seed_gives_the_same_bytes_and_other_seeds_or_names_do_not()
    {
        var first = Generate(_matrix, 7, TensorDType.BF16);
        Assert.Equal(first, Generate(_matrix, 7, TensorDType.BF16));
        Assert.NotEqual(first, Generate(_matrix, 8, TensorDType.BF16));
        Assert.NotEqual(first, Generate(_matrix with { Name = "model.layers.1.mlp.up_proj.weight" }, 7, TensorDType.BF16));
    }

    [Fact]
    public void Generating_in_block_aligned_pieces_gives_the_same_bytes_as_at_once()
    {
        var whole = Generate(_matrix, 3, TensorDType.F16);
        var pieces = new byte[whole.Length];
        int total = (int)_matrix.ElementCount;
        for (int first = 0; first < total; first += WeightGenerator.ElementsPerBlock)
        {
            int count = Math.Min(WeightGenerator.ElementsPerBlock, total - first);
            WeightGenerator.Fill(pieces.AsSpan(first * 2), _matrix, 3, TensorDType.F16, first, count);
        }
        Assert.Equal(whole, pieces);
    }

    [Fact]
    public void The_16_bit_types_hold_the_rounded_float32_values()
    {
        var f32 = Values(_matrix, 11);
        var bf16 = Generate(_matrix, 11, TensorDType.BF16);
        var f16 = Generate(_matrix, 11, TensorDType.F16);
        for (int i = 0; i < f32.Length; i++)
        {
            Assert.Equal(FloatConversion.ToBFloat16Bits(f32[i]), BitConverter.ToUInt16(bf16, i * 2));
            Assert.Equal(FloatConversion.ToHalfBits(f32[i]), BitConverter.ToUInt16(f16, i * 2));
        }
    }

    [Theory]
    [InlineData(nameof(TensorInit.Weight), 0.0, 0.02)]
    [InlineData(nameof(TensorInit.NormWeight), 1.0, 0.02)]
    [InlineData(nameof(TensorInit.Bias), 0.0, 0.01)]
    public void Values_have_the_intended_mean_and_spread(string init, double mean, double std)
    {
        var values = Values(_matrix with { Init = Enum.Parse<TensorInit>(init) }, 5);
        double actualMean = values.Average(v => (double)v);
        double actualStd = Math.Sqrt(values.Average(v => (v - actualMean) * (v - actualMean)));
        Assert.InRange(actualMean, mean - 0.05 * std, mean + 0.05 * std);
        Assert.InRange(actualStd, 0.98 * std, 1.02 * std);
        // Irwin–Hall of four uniforms is bounded by ±2√3 standard deviations.
        Assert.All(values, v => Assert.InRange(v, mean - 3.47 * std, mean + 3.47 * std));
    }

    /// <summary>fixtures/weight-vectors.json comes from make-weight-vectors.py, an independent Python
    /// implementation of the algorithm: the same values on another runtime and machine.</summary>
    [Fact]
    public void Values_match_the_independent_python_implementation()
    {
        using var fixture = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "fixtures", "weight-vectors.json")));
        int checkedCount = 0;
        foreach (var vector in fixture.RootElement.GetProperty("vectors").EnumerateArray())
        {
            var tensor = new TensorSpec(vector.GetProperty("name").GetString()!, [1L << 20],
                Enum.Parse<TensorInit>(vector.GetProperty("init").GetString()!));
            ulong seed = ulong.Parse(vector.GetProperty("seed").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
            int index = vector.GetProperty("index").GetInt32();
            int blockStart = index / WeightGenerator.ElementsPerBlock * WeightGenerator.ElementsPerBlock;
            int count = index - blockStart + 1;

            var f32 = new byte[count * 4];
            WeightGenerator.Fill(f32, tensor, seed, TensorDType.F32, blockStart, count);
            Assert.Equal(vector.GetProperty("f32_bits").GetUInt32(), BitConverter.ToUInt32(f32, (index - blockStart) * 4));
            var bf16 = new byte[count * 2];
            WeightGenerator.Fill(bf16, tensor, seed, TensorDType.BF16, blockStart, count);
            Assert.Equal(vector.GetProperty("bf16_bits").GetUInt16(), BitConverter.ToUInt16(bf16, (index - blockStart) * 2));
            checkedCount++;
        }
        Assert.True(checkedCount >= 20);
    }

    [Fact]
    public void Fill_refuses_a_start_inside_a_block()
    {
        var bytes = new byte[64];
        Assert.Throws<ArgumentException>(() => WeightGenerator.Fill(bytes, _matrix, 1, TensorDType.F32, 5, 16));
    }
}
