using System.Runtime.InteropServices;

namespace R2ps.Hsm.Pkcs11;

/// <summary>
/// A PKCS#11 session (read-write, serial). Used by one thread at a time: the pool hands it out exclusively. Closing
/// checks the module's generation so that a handle that outlived a C_Finalize never closes a stranger's session.
/// </summary>
internal sealed class Pkcs11Session : SafeHandle
{
    private readonly int _generation;

    public Pkcs11Session(Pkcs11Module module, int generation, nuint handle)
        : base(0, ownsHandle: true)
    {
        Module = module;
        _generation = generation;
        SetHandle((nint)handle);
    }

    public Pkcs11Module Module { get; }

    public nuint Id => (nuint)handle;

    public override bool IsInvalid => handle == 0;

    protected override bool ReleaseHandle() => Module.CloseSession((nuint)handle, _generation);
}
