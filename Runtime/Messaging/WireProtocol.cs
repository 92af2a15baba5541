using System.Buffers;
using System.Text.Json;

namespace OrleansLlm.Runtime;

/// <summary>
/// The HTTP/2 call protocol between processes. A call is <c>POST /call</c> with the grain and
/// method in headers and the arguments as a JSON array. Answers: 200 with the result JSON (or,
/// for streams, frames <c>i{json}\n</c> per item, then <c>d\n</c> or <c>e{error}\n</c>); 421/503
/// with <c>x-not-executed</c> when the call provably did not run (the caller may retry); 500 with
/// a <see cref="RemoteError"/> when it ran and failed; 400 for malformed calls.
/// </summary>
internal static class WireProtocol
{
    public const string CallPath = "/call";
    public const string PingPath = "/ping";
    public const string GrainTypeHeader = "x-grain-type";
    public const string GrainKeyHeader = "x-grain-key";
    public const string MethodHeader = "x-grain-method";
    public const string NotExecutedHeader = "x-not-executed";
    public const string RedirectSiloHeader = "x-redirect-silo";
    public const string RedirectAddressHeader = "x-redirect-address";

    public static ReadOnlySpan<byte> ItemFrame => "i"u8;

    public static ReadOnlySpan<byte> DoneFrame => "d\n"u8;

    public static ReadOnlySpan<byte> ErrorFrame => "e"u8;

    public static RemoteError ToRemoteError(Exception exception)
    {
        var type = exception.GetType();
        return new RemoteError($"{type.FullName}, {type.Assembly.GetName().Name}", exception.Message, exception.StackTrace);
    }

    public static void WriteError(IBufferWriter<byte> output, Exception exception)
    {
        using var writer = new Utf8JsonWriter(output);
        JsonSerializer.Serialize(writer, ToRemoteError(exception), RuntimeJsonContext.Default.RemoteError);
    }

    /// <summary>
    /// Recreates the callee's exception type when it has a (message, inner) or (message)
    /// constructor that reproduces the message; otherwise a <see cref="RemoteGrainException"/>.
    /// </summary>
    public static Exception ToException(RemoteError error)
    {
        var type = Type.GetType(error.Type, throwOnError: false);
        if (type is not null && typeof(Exception).IsAssignableFrom(type))
        {
            try
            {
                var created = type.GetConstructor([typeof(string), typeof(Exception)]) is { } withInner
                    ? (Exception)withInner.Invoke([error.Message, null])
                    : type.GetConstructor([typeof(string)]) is { } withMessage ? (Exception)withMessage.Invoke([error.Message]) : null;
                if (created is not null && created.Message == error.Message)
                {
                    return created;
                }
            }
            catch (System.Reflection.TargetInvocationException)
            {
                // fall through to the generic wrapper
            }
        }
        return new RemoteGrainException(error.Type.Split(',')[0], error.Message);
    }

    public static Exception ReadError(ReadOnlySpan<byte> json)
    {
        try
        {
            var error = JsonSerializer.Deserialize(json, RuntimeJsonContext.Default.RemoteError);
            return error is null ? new GrainRuntimeException("silo returned an empty error") : ToException(error);
        }
        catch (JsonException e)
        {
            return new GrainRuntimeException("silo returned an unreadable error", e);
        }
    }
}
