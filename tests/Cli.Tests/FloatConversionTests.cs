using OrleansLlm.Cli.ModelMaking;

namespace OrleansLlm.Cli.Tests;

public class FloatConversionTests
{
    private static float Bits(uint bits) => BitConverter.UInt32BitsToSingle(bits);

    [Theory]
    [InlineData(0x3F80_0000u, 0x3F80)] // 1.0 exact
    [InlineData(0x3F80_8000u, 0x3F80)] // 1 + 2^-8: half-way, ties to the even 1.0
    [InlineData(0x3F81_8000u, 0x3F82)] // half-way above an odd mantissa rounds up to even
    [InlineData(0x3F80_8001u, 0x3F81)] // just above half-way rounds up
    [InlineData(0x3F80_7FFFu, 0x3F80)] // just below half-way rounds down
    [InlineData(0xBF80_8000u, 0xBF80)] // negative half-way, ties to even
    [InlineData(0x8000_0000u, 0x8000)] // -0 keeps its sign
    [InlineData(0x7F7F_FFFFu, 0x7F80)] // float max rounds past bf16 max to +infinity
    [InlineData(0x7F80_0000u, 0x7F80)] // +infinity
    [InlineData(0xFF80_0000u, 0xFF80)] // -infinity
    [InlineData(0x0000_8000u, 0x0000)] // half-way subnormal ties to even zero
    [InlineData(0x0001_8000u, 0x0002)] // half-way subnormal above an odd one rounds up
    public void BFloat16_rounds_to_nearest_even(uint floatBits, int expected)
    {
        Assert.Equal((ushort)expected, FloatConversion.ToBFloat16Bits(Bits(floatBits)));
    }

    [Theory]
    [InlineData(0x7FC0_0000u)] // quiet NaN
    [InlineData(0x7F80_0001u)] // signalling NaN whose payload sits only in the dropped bits
    [InlineData(0xFFFF_FFFFu)] // all-ones NaN must not carry into infinity or wrap
    public void BFloat16_keeps_NaN_a_NaN(uint floatBits)
    {
        ushort bf16 = FloatConversion.ToBFloat16Bits(Bits(floatBits));
        Assert.True(float.IsNaN(FloatConversion.FromBFloat16Bits(bf16)), $"0x{bf16:X4} is not a NaN");
        Assert.Equal(floatBits >> 31, (uint)bf16 >> 15);
    }

    [Fact]
    public void Every_bfloat16_value_converts_back_to_itself()
    {
        for (int bits = 0; bits <= 0xFFFF; bits++)
        {
            float value = FloatConversion.FromBFloat16Bits((ushort)bits);
            if (float.IsNaN(value))
            {
                continue;
            }
            Assert.Equal((ushort)bits, FloatConversion.ToBFloat16Bits(value));
        }
    }

    [Theory]
    [InlineData(0x3F80_0000u, 0x3C00)] // 1.0
    [InlineData(0x3F80_1000u, 0x3C00)] // 1 + 2^-11: half-way, ties to the even 1.0
    [InlineData(0x3F80_3000u, 0x3C02)] // 1 + 3·2^-11: half-way above an odd mantissa rounds up
    [InlineData(0x3F80_1001u, 0x3C01)] // just above half-way rounds up
    [InlineData(0x477F_E000u, 0x7BFF)] // 65504, the largest half
    [InlineData(0x477F_EF00u, 0x7BFF)] // 65519 is below half-way to 65536 and stays finite
    [InlineData(0x477F_F000u, 0x7C00)] // 65520 is half-way and rounds (to even) to infinity
    [InlineData(0xC000_0000u, 0xC000)] // -2
    [InlineData(0x3380_0000u, 0x0001)] // 2^-24, the smallest subnormal
    [InlineData(0x3300_0000u, 0x0000)] // 2^-25: half-way between 0 and 2^-24 ties to zero
    [InlineData(0x33C0_0000u, 0x0002)] // 1.5·2^-24: half-way between 1 and 2 ulps ties to 2
    public void Half_rounds_to_nearest_even(uint floatBits, int expected)
    {
        Assert.Equal((ushort)expected, FloatConversion.ToHalfBits(Bits(floatBits)));
    }
}
