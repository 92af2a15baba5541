using System.Runtime.ExceptionServices;
using Microsoft.Win32.SafeHandles;

namespace OrleansLlm.Cli.ModelMaking;

/// <summary>Streams one shard to disk: its tensors are cut into chunks that threads generate into
/// their own buffers and write at their file offsets, so memory stays at one chunk per thread
/// whatever the shard size, and the bytes do not depend on the number of threads.</summary>
internal static class SafetensorsFileWriter
{
    /// <summary>Elements per write: 16 generator blocks, 2 MiB of bf16.</summary>
    private const int ElementsPerChunk = 16 * WeightGenerator.ElementsPerBlock;

    private sealed record Chunk(TensorSpec Tensor, long FileOffset, long FirstElement, int ElementCount);

    /// <param name="onBytesWritten">called from worker threads with each chunk's byte count</param>
    public static void Write(
        string path,
        SafetensorsShard shard,
        ulong seed,
        TensorDType dtype,
        int threadCount,
        Action<long>? onBytesWritten,
        CancellationToken cancellationToken)
    {
        using SafeFileHandle file = File.OpenHandle(path, FileMode.Create, FileAccess.Write, FileShare.None,
            FileOptions.None, preallocationSize: shard.FileBytes);

        Span<byte> length = stackalloc byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)shard.Header.Length);
        RandomAccess.Write(file, length, 0);
        RandomAccess.Write(file, shard.Header, 8);
        onBytesWritten?.Invoke(shard.DataStart);

        var options = new ParallelOptions
        {
            MaxDegreeOfParallelism = Math.Max(1, threadCount),
            CancellationToken = cancellationToken,
        };
        int bufferBytes = ElementsPerChunk * dtype.ByteSize();
        try
        {
            Parallel.ForEach(
                Chunks(shard, dtype),
                options,
                () => new byte[bufferBytes],
                (chunk, _, buffer) =>
                {
                    int bytes = chunk.ElementCount * dtype.ByteSize();
                    WeightGenerator.Fill(buffer, chunk.Tensor, seed, dtype, chunk.FirstElement, chunk.ElementCount);
                    RandomAccess.Write(file, buffer.AsSpan(0, bytes), chunk.FileOffset);
                    onBytesWritten?.Invoke(bytes);
                    return buffer;
                },
                _ => { });
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            // Parallel.ForEach wraps a worker's failure (say, disk full); surface the first one as itself.
            ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }
    }

    private static IEnumerable<Chunk> Chunks(SafetensorsShard shard, TensorDType dtype)
    {
        foreach (var placed in shard.Tensors)
        {
            long elements = placed.Tensor.ElementCount;
            for (long first = 0; first < elements; first += ElementsPerChunk)
            {
                int count = (int)Math.Min(ElementsPerChunk, elements - first);
                yield return new Chunk(placed.Tensor, shard.DataStart + placed.Begin + first * dtype.ByteSize(), first, count);
            }
        }
    }
}
