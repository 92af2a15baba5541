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

/// <summary>
/// Owns an <c>orleansllm_context*</c>; releasing it calls <c>orleansllm_context_free</c>. Like
/// <see cref="SafeEngineHandle"/> it holds a reference on the model handle: the native context
/// points into the model, so disposing the model first must not free it under the context.
/// </summary>
internal sealed class SafeContextHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    private readonly SafeModelHandle _model;

    private SafeContextHandle(nint context, SafeModelHandle model) : base(ownsHandle: true)
    {
        _model = model;
        SetHandle(context);
    }

    /// <summary>Creates the native context; throws <see cref="NativeException"/> on bad parameters.</summary>
    internal static SafeContextHandle Create(SafeModelHandle model, ContextParams parameters)
    {
        var added = false;
        model.DangerousAddRef(ref added);
        try
        {
            NativeMethods.Check(NativeMethods.ContextInit(model, parameters, out var context));
            return new SafeContextHandle(context, model);
        }
        catch
        {
            if (added)
            {
                model.DangerousRelease();
            }
            throw;
        }
    }

    protected override bool ReleaseHandle()
    {
        NativeMethods.ContextFree(handle);
        _model.DangerousRelease();
        return true;
    }
}
