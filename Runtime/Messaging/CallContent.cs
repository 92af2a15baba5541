using System.Net;

namespace OrleansLlm.Runtime;

/// <summary>
/// A call's serialized arguments. It records whether the handler started sending them: a silo
/// reads the whole body before it dispatches, so a call whose body never started leaving this
/// process provably did not run and may be retried.
/// </summary>
internal sealed class CallContent(byte[] body) : HttpContent
{
    private volatile bool _sendStarted;

    public bool SendStarted => _sendStarted;

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        _sendStarted = true;
        return stream.WriteAsync(body, cancellationToken).AsTask();
    }

    protected override bool TryComputeLength(out long length)
    {
        length = body.Length;
        return true;
    }
}
