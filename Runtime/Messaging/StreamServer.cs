using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace OrleansLlm.Runtime;

/// <summary>
/// Writes a streaming call's items as frames. The grain's enumerator is advanced only after the
/// previous frames were handed to the transport, and the response is flushed (waiting for HTTP/2
/// flow control) whenever the next item is not ready or 32 KiB are pending: a slow reader slows
/// the grain instead of growing a buffer.
/// </summary>
internal static class StreamServer
{
    private const int FlushThresholdBytes = 32 * 1024;

    public static async Task ServeAsync<TItem>(ActivationCatalog catalog, GrainId grainId, GrainInterfaceInfo info, StreamMethod<TItem> method,
        object?[] arguments, HttpContext context, CancellationToken cancellationToken)
    {
        // throws CallNotExecutedException before anything is written when the call is not admitted
        var items = await catalog.OpenStreamAsync(grainId, info, method, arguments, cancellationToken, cancellationToken);
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/x-ndjson";
        var output = context.Response.BodyWriter;
        await using var enumerator = items.GetAsyncEnumerator(cancellationToken);
        using var json = new Utf8JsonWriter((IBufferWriter<byte>)output);
        long pending = 0;
        try
        {
            var next = enumerator.MoveNextAsync();
            while (true)
            {
                if (!next.IsCompleted || pending > FlushThresholdBytes)
                {
                    await output.FlushAsync(cancellationToken);
                    pending = 0;
                }
                if (!await next)
                {
                    break;
                }
                output.Write(WireProtocol.ItemFrame);
                var before = json.BytesCommitted;
                JsonSerializer.Serialize(json, enumerator.Current, method.ItemType);
                json.Flush();
                pending += json.BytesCommitted - before + 2;
                json.Reset();
                output.Write("\n"u8);
                next = enumerator.MoveNextAsync();
            }
            output.Write(WireProtocol.DoneFrame);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            output.Write(WireProtocol.ErrorFrame);
            WireProtocol.WriteError(output, e);
            output.Write("\n"u8);
        }
        await output.FlushAsync(cancellationToken);
    }
}
