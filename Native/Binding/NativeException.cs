namespace OrleansLlm.Native;

/// <summary>Status codes of orleansllm.h.</summary>
public enum NativeStatus
{
    Ok = 0,
    InvalidArgument = 1,
    Io = 2,
    Format = 3,
    Unsupported = 4,
    OutOfMemory = 5,
    Capacity = 6,
    NotFound = 7,
    Internal = 8,
}

/// <summary>A native call failed; <see cref="Status"/> says how, the message says where.</summary>
public sealed class NativeException(NativeStatus status, string message)
    : Exception($"{message} ({StatusName(status)})")
{
    public NativeStatus Status { get; } = status;

    private static string StatusName(NativeStatus status) => status switch
    {
        NativeStatus.InvalidArgument => "invalid_argument",
        NativeStatus.Io => "io",
        NativeStatus.Format => "format",
        NativeStatus.Unsupported => "unsupported",
        NativeStatus.OutOfMemory => "out_of_memory",
        NativeStatus.Capacity => "capacity",
        NativeStatus.NotFound => "not_found",
        NativeStatus.Internal => "internal",
        _ => status.ToString(),
    };
}
