using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Text;

namespace OrleansLlm.Cli.ModelMaking;

/// <summary>
/// Deterministic random tensor values: the same (seed, tensor name, element index) gives the same
/// value on any machine and with any number of threads. A tensor is cut into fixed blocks of
/// <see cref="ElementsPerBlock"/> elements; each block has its own xoshiro256** stream seeded with
/// SplitMix64 from (seed, FNV-1a hash of the name, block index), so blocks are generated in parallel.
/// </summary>
internal static class WeightGenerator
{
    public const int ElementsPerBlock = 1 << 16;

    private const float WeightStd = 0.02f;
    private const float NormNoiseStd = 0.02f;
    private const float BiasStd = 0.01f;

    /// <summary>Each 16-bit part of a 64-bit draw is uniform with variance 65536²/12; the sum of the
    /// four, centred and scaled by this, has mean 0 and variance 1 (Irwin–Hall, close to normal).</summary>
    private static readonly float _irwinHallScale = (float)(Math.Sqrt(3.0) / 65536.0);

    /// <summary>One block of float32 values per thread, converted to the stored type afterwards.</summary>
    [ThreadStatic]
    private static float[]? _scratch;

    /// <summary>64-bit FNV-1a of the UTF-8 name: stable across processes and runtimes, unlike string.GetHashCode.</summary>
    public static ulong StableHash(string text)
    {
        ulong hash = 14695981039346656037UL;
        foreach (byte b in Encoding.UTF8.GetBytes(text))
        {
            hash ^= b;
            hash *= 1099511628211UL;
        }
        return hash;
    }

    /// <summary>Writes elements [firstElement, firstElement + count) of a tensor, converted to dtype,
    /// into destination (little-endian). firstElement must start a block.</summary>
    public static void Fill(Span<byte> destination, TensorSpec tensor, ulong seed, TensorDType dtype, long firstElement, int count)
    {
        if (firstElement % ElementsPerBlock != 0)
        {
            throw new ArgumentException($"firstElement {firstElement} does not start a block of {ElementsPerBlock}", nameof(firstElement));
        }
        if (destination.Length < (long)count * dtype.ByteSize())
        {
            throw new ArgumentException("destination is shorter than count elements", nameof(destination));
        }
        ulong tensorSeed = StableHash(tensor.Name) ^ Mix(seed);
        (float scale, float offset) = tensor.Init switch
        {
            TensorInit.Weight => (WeightStd, 0f),
            TensorInit.NormWeight => (NormNoiseStd, 1f),
            TensorInit.Bias => (BiasStd, 0f),
            _ => throw new ArgumentOutOfRangeException(nameof(tensor)),
        };
        scale *= _irwinHallScale;

        var values = _scratch ??= new float[ElementsPerBlock];
        long block = firstElement / ElementsPerBlock;
        for (int done = 0; done < count; done += ElementsPerBlock, block++)
        {
            int blockCount = Math.Min(ElementsPerBlock, count - done);
            var rng = new Xoshiro256StarStar(tensorSeed + Mix((ulong)block));
            for (int i = 0; i < blockCount; i++)
            {
                values[i] = Draw(ref rng, scale, offset);
            }
            Convert(values.AsSpan(0, blockCount), destination.Slice(done * dtype.ByteSize(), blockCount * dtype.ByteSize()), dtype);
        }
    }

    /// <summary>Stores float32 values as little-endian dtype elements.</summary>
    internal static void Convert(ReadOnlySpan<float> values, Span<byte> destination, TensorDType dtype)
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("safetensors files are little-endian; make-model runs on little-endian machines only");
        }
        switch (dtype)
        {
            case TensorDType.F32:
                values.CopyTo(MemoryMarshal.Cast<byte, float>(destination));
                break;
            case TensorDType.F16:
                // Vectorised; rounds to nearest even exactly as the (Half) cast does.
                TensorPrimitives.ConvertToHalf(values, MemoryMarshal.Cast<byte, Half>(destination));
                break;
            case TensorDType.BF16:
                var bf16 = MemoryMarshal.Cast<byte, ushort>(destination);
                for (int i = 0; i < values.Length; i++)
                {
                    bf16[i] = FloatConversion.ToBFloat16Bits(values[i]);
                }
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(dtype));
        }
    }

    private static float Draw(ref Xoshiro256StarStar rng, float scale, float offset)
    {
        ulong r = rng.Next();
        int sum = (int)(r & 0xFFFF) + (int)((r >> 16) & 0xFFFF) + (int)((r >> 32) & 0xFFFF) + (int)(r >> 48);
        // The four parts average 4 × 32767.5 = 131070; float arithmetic here is exact up to the
        // final two roundings, which IEEE fixes, so results are identical everywhere.
        return offset + (sum - 131070) * scale;
    }

    /// <summary>SplitMix64's finaliser: spreads nearby integers (seeds, block indices) over all 64 bits.</summary>
    internal static ulong Mix(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }
}
