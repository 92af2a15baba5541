using Microsoft.Win32.SafeHandles;

namespace OrleansLlm.Native;

/// <summary>
/// Owns an <c>orleansllm_engine*</c>; releasing it calls <c>orleansllm_engine_free</c>. It holds a
/// reference on the model handle, so the model outlives every engine built over it.
/// </summary>
internal sealed class SafeEngineHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    private readonly SafeModelHandle _model;

    private SafeEngineHandle(nint engine, SafeModelHandle model) : base(ownsHandle: true)
    {
        _model = model;
        SetHandle(engine);
    }

    /// <summary>Creates the native engine; throws <see cref="NativeException"/> on bad parameters.</summary>
    internal static SafeEngineHandle Create(SafeModelHandle model, EngineParams parameters)
    {
        var added = false;
        model.DangerousAddRef(ref added);
        try
        {
            NativeMethods.Check(NativeMethods.EngineInit(model, parameters, out var engine));
            return new SafeEngineHandle(engine, model);
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
        NativeMethods.EngineFree(handle);
        _model.DangerousRelease();
        return true;
    }
}
