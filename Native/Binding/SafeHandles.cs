using Microsoft.Win32.SafeHandles;

namespace OrleansLlm.Native;

/// <summary>Owns an <c>orleansllm_model*</c>; releasing it calls <c>orleansllm_model_free</c>.</summary>
internal sealed class SafeModelHandle() : SafeHandleZeroOrMinusOneIsInvalid(ownsHandle: true)
{
    protected override bool ReleaseHandle()
    {
        NativeMethods.ModelFree(handle);
        return true;
    }
}

/// <summary>Owns an <c>orleansllm_context*</c>; releasing it calls <c>orleansllm_context_free</c>.</summary>
internal sealed class SafeContextHandle() : SafeHandleZeroOrMinusOneIsInvalid(ownsHandle: true)
{
    protected override bool ReleaseHandle()
    {
        NativeMethods.ContextFree(handle);
        return true;
    }
}
