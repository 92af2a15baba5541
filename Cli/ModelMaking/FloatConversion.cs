namespace OrleansLlm.Cli.ModelMaking;

/// <summary>float32 to the 16-bit formats, rounding to nearest with ties to even (as torch does).</summary>
internal static class FloatConversion
{
    /// <summary>bfloat16 keeps float32's sign and exponent and the top 7 mantissa bits.</summary>
    public static ushort ToBFloat16Bits(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if ((bits & 0x7FFF_FFFFu) > 0x7F80_0000u)
        {
            // NaN: keep the sign and the top payload bits, force the quiet bit so it cannot round to infinity.
            return (ushort)((bits >> 16) | 0x0040u);
        }
        // Adding 0x7FFF plus the lowest kept bit rounds half-way cases towards an even kept mantissa;
        // a carry out of the mantissa correctly bumps the exponent (up to infinity).
        uint roundingBias = 0x7FFFu + ((bits >> 16) & 1u);
        return (ushort)((bits + roundingBias) >> 16);
    }

    /// <summary>IEEE binary16; System.Half's conversion from float rounds to nearest even, subnormals included.</summary>
    public static ushort ToHalfBits(float value) => BitConverter.HalfToUInt16Bits((Half)value);

    public static float FromBFloat16Bits(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    public static float FromHalfBits(ushort bits) => (float)BitConverter.UInt16BitsToHalf(bits);
}
