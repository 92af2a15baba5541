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

    // The native library names its statuses (orleansllm_status_name), so the two never disagree.
    private static string StatusName(NativeStatus status) =>
        System.Runtime.InteropServices.Marshal.PtrToStringUTF8(NativeMethods.StatusName((int)status)) ?? status.ToString();
}
