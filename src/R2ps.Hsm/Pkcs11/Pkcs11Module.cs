using System.Runtime.InteropServices;
using System.Text;

namespace R2ps.Hsm.Pkcs11;

/// <summary>
/// One PKCS#11 module (shared library) of the process, reached through its C_GetFunctionList table. PKCS#11 allows
/// one C_Initialize per process, so modules are shared by path and reference-counted: the first
/// <see cref="Acquire"/> initialises (with CKF_OS_LOCKING_OK: the module may be called from any thread), the last
/// <see cref="Release"/> finalises. The library stays loaded after C_Finalize (unloading a module that links OpenSSL
/// is not reliably safe), so a later <see cref="Acquire"/> re-initialises the same table.
/// </summary>
internal sealed unsafe class Pkcs11Module
{
    private static readonly Dictionary<string, Pkcs11Module> Modules = new(StringComparer.Ordinal);
    private static readonly Lock RegistryLock = new();

    private readonly CkFunctionList* _functions;
    private readonly HashSet<nuint> _openSlots = [];
    private int _references;

    private Pkcs11Module(string path, CkFunctionList* functions)
    {
        Path = path;
        _functions = functions;
    }

    public string Path { get; }

    /// <summary>Counts C_Initialize calls: handles (sessions, objects) of an earlier generation are meaningless.</summary>
    public int Generation { get; private set; }

    /// <summary>True while any module of the process is initialised (SoftHSM2's configuration is fixed by then).</summary>
    public static bool AnyInitialized
    {
        get
        {
            lock (RegistryLock) return Modules.Values.Any(m => m._references > 0);
        }
    }

    public bool IsInitialized
    {
        get
        {
            lock (RegistryLock) return _references > 0;
        }
    }

    /// <summary>
    /// Serialises creating and destroying token objects in this process: SoftHSM2 has had races in concurrent key
    /// generation, and object creation is rare enough that a lock costs nothing.
    /// </summary>
    public Lock ObjectLifecycleLock { get; } = new();

    /// <summary>The module at <paramref name="path"/>, loaded and initialised; pair with <see cref="Release"/>.</summary>
    public static Pkcs11Module Acquire(string path)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS() && !OperatingSystem.IsFreeBSD() || !Environment.Is64BitProcess)
            throw new PlatformNotSupportedException("The PKCS#11 binding assumes LP64 Unix (CK_ULONG of 8 bytes).");
        var fullPath = System.IO.Path.GetFullPath(path);
        lock (RegistryLock)
        {
            if (!Modules.TryGetValue(fullPath, out var module))
            {
                module = new Pkcs11Module(fullPath, LoadFunctionList(fullPath));
                Modules.Add(fullPath, module);
            }
            if (module._references == 0) module.Initialize();
            module._references++;
            return module;
        }
    }

    public void Release()
    {
        lock (RegistryLock)
        {
            if (_references == 0) throw new InvalidOperationException("Pkcs11Module released more often than acquired.");
            if (--_references > 0) return;
            _openSlots.Clear();
            var finalize = (delegate* unmanaged<nint, nuint>)_functions->C_Finalize;
            _ = finalize(0); // nothing useful to do about a failing C_Finalize at shutdown
        }
    }

    /// <summary>Claims a slot for one logged-in user of this process (login state is per application and token).</summary>
    public bool TryClaimSlot(nuint slot)
    {
        lock (RegistryLock) return _openSlots.Add(slot);
    }

    public void ReleaseSlot(nuint slot)
    {
        lock (RegistryLock) _openSlots.Remove(slot);
    }

    private static CkFunctionList* LoadFunctionList(string fullPath)
    {
        if (!File.Exists(fullPath))
            throw new HsmConfigurationException(HsmBootFailure.ModuleNotLoadable, $"PKCS#11 module '{fullPath}' does not exist.");
        nint library;
        try
        {
            library = NativeLibrary.Load(fullPath);
        }
        catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
        {
            throw new HsmConfigurationException(HsmBootFailure.ModuleNotLoadable, $"PKCS#11 module '{fullPath}' could not be loaded: {e.Message}", e);
        }
        if (!NativeLibrary.TryGetExport(library, "C_GetFunctionList", out var getFunctionList))
            throw new HsmConfigurationException(HsmBootFailure.NotAPkcs11Module, $"'{fullPath}' is not a PKCS#11 module: it exports no C_GetFunctionList.");
        CkFunctionList* functions = null;
        var rv = ((delegate* unmanaged<CkFunctionList**, nuint>)getFunctionList)(&functions);
        if (rv != 0 || functions == null)
            throw new HsmConfigurationException(HsmBootFailure.NotAPkcs11Module, $"'{fullPath}': C_GetFunctionList failed: {Pkcs11Exception.NameOf(rv)}.");
        if (functions->VersionMajor != 2)
            throw new HsmConfigurationException(HsmBootFailure.NotAPkcs11Module, $"'{fullPath}' implements PKCS#11 {functions->VersionMajor}.{functions->VersionMinor}; 2.x is required.");
        return functions;
    }

    private void Initialize()
    {
        var args = new CkCInitializeArgs { Flags = Ck.CKF_OS_LOCKING_OK };
        var rv = ((delegate* unmanaged<CkCInitializeArgs*, nuint>)_functions->C_Initialize)(&args);
        // Someone else in the process initialised it already: usable, and ours to share.
        if (rv != 0 && rv != Pkcs11ReturnValues.CKR_CRYPTOKI_ALREADY_INITIALIZED)
            throw new HsmConfigurationException(HsmBootFailure.NotAPkcs11Module, $"PKCS#11 module '{Path}': C_Initialize failed: {Pkcs11Exception.NameOf(rv)}.", new Pkcs11Exception("C_Initialize", rv));
        Generation++;
    }

    private static void Check(nuint rv, string function)
    {
        if (rv != 0) throw new Pkcs11Exception(function, rv);
    }

    // ---- Slots and tokens ----

    public nuint[] GetSlotList(bool tokenPresent)
    {
        nuint count = 0;
        var getSlotList = (delegate* unmanaged<byte, nuint*, nuint*, nuint>)_functions->C_GetSlotList;
        Check(getSlotList(tokenPresent ? Ck.True : Ck.False, null, &count), "C_GetSlotList");
        var slots = new nuint[(int)count];
        if (count == 0) return slots;
        fixed (nuint* p = slots) Check(getSlotList(tokenPresent ? Ck.True : Ck.False, p, &count), "C_GetSlotList");
        return slots[..(int)count];
    }

    public (string Label, nuint Flags) GetTokenInfo(nuint slot)
    {
        CkTokenInfo info;
        Check(((delegate* unmanaged<nuint, CkTokenInfo*, nuint>)_functions->C_GetTokenInfo)(slot, &info), "C_GetTokenInfo");
        var label = Encoding.UTF8.GetString(new ReadOnlySpan<byte>(info.Label, 32)).TrimEnd(' ', '\0');
        return (label, info.Flags);
    }

    /// <summary>C_InitToken: the label is blank-padded to 32 bytes, as the standard requires.</summary>
    public void InitToken(nuint slot, ReadOnlySpan<byte> soPin, string label)
    {
        Span<byte> paddedLabel = stackalloc byte[32];
        paddedLabel.Fill((byte)' ');
        if (Encoding.UTF8.GetByteCount(label) > 32) throw new ArgumentException("A token label is at most 32 UTF-8 bytes.", nameof(label));
        Encoding.UTF8.GetBytes(label, paddedLabel);
        fixed (byte* pin = soPin)
        fixed (byte* l = paddedLabel)
            Check(((delegate* unmanaged<nuint, byte*, nuint, byte*, nuint>)_functions->C_InitToken)(slot, pin, (nuint)soPin.Length, l), "C_InitToken");
    }

    // ---- Sessions ----

    public Pkcs11Session OpenSession(nuint slot)
    {
        nuint handle = 0;
        var openSession = (delegate* unmanaged<nuint, nuint, nint, nint, nuint*, nuint>)_functions->C_OpenSession;
        Check(openSession(slot, Ck.CKF_SERIAL_SESSION | Ck.CKF_RW_SESSION, 0, 0, &handle), "C_OpenSession");
        return new Pkcs11Session(this, Generation, handle);
    }

    /// <summary>Closes a session of the current generation; a stale handle might name someone else's session now.</summary>
    internal bool CloseSession(nuint handle, int generation)
    {
        lock (RegistryLock)
        {
            if (_references == 0 || generation != Generation) return true;
        }
        return ((delegate* unmanaged<nuint, nuint>)_functions->C_CloseSession)(handle) == 0;
    }

    internal void Login(nuint session, nuint userType, ReadOnlySpan<byte> pin)
    {
        fixed (byte* p = pin)
            Check(((delegate* unmanaged<nuint, nuint, byte*, nuint, nuint>)_functions->C_Login)(session, userType, p, (nuint)pin.Length), "C_Login");
    }

    internal void Logout(nuint session) =>
        Check(((delegate* unmanaged<nuint, nuint>)_functions->C_Logout)(session), "C_Logout");

    internal void InitPin(nuint session, ReadOnlySpan<byte> pin)
    {
        fixed (byte* p = pin)
            Check(((delegate* unmanaged<nuint, byte*, nuint, nuint>)_functions->C_InitPIN)(session, p, (nuint)pin.Length), "C_InitPIN");
    }

    // ---- Objects ----

    internal nuint CreateObject(nuint session, AttributeTemplate template)
    {
        nuint handle = 0;
        Check(((delegate* unmanaged<nuint, CkAttribute*, nuint, nuint*, nuint>)_functions->C_CreateObject)(session, template.Pointer, template.Count, &handle), "C_CreateObject");
        return handle;
    }

    internal void DestroyObject(nuint session, nuint handle) =>
        Check(((delegate* unmanaged<nuint, nuint, nuint>)_functions->C_DestroyObject)(session, handle), "C_DestroyObject");

    internal List<nuint> FindObjects(nuint session, AttributeTemplate template, int max)
    {
        Check(((delegate* unmanaged<nuint, CkAttribute*, nuint, nuint>)_functions->C_FindObjectsInit)(session, template.Pointer, template.Count), "C_FindObjectsInit");
        var findObjectsFinal = (delegate* unmanaged<nuint, nuint>)_functions->C_FindObjectsFinal;
        List<nuint> found;
        try
        {
            found = Collect(session, max);
        }
        catch
        {
            _ = findObjectsFinal(session); // the find's own failure is the one to report
            throw;
        }
        Check(findObjectsFinal(session), "C_FindObjectsFinal");
        return found;
    }

    private List<nuint> Collect(nuint session, int max)
    {
        var found = new List<nuint>();
        var batch = stackalloc nuint[64];
        var findObjects = (delegate* unmanaged<nuint, nuint*, nuint, nuint*, nuint>)_functions->C_FindObjects;
        while (found.Count < max)
        {
            nuint count = 0;
            Check(findObjects(session, batch, (nuint)Math.Min(64, max - found.Count), &count), "C_FindObjects");
            if (count == 0) break;
            for (var i = 0; i < (int)count; i++) found.Add(batch[i]);
        }
        return found;
    }

    /// <summary>
    /// C_GetAttributeValue for several attributes: one call for the lengths, one for the values. An attribute that is
    /// absent, sensitive or unknown to the object comes back null.
    /// </summary>
    internal byte[]?[] GetAttributes(nuint session, nuint handle, ReadOnlySpan<nuint> types)
    {
        var getAttributeValue = (delegate* unmanaged<nuint, nuint, CkAttribute*, nuint, nuint>)_functions->C_GetAttributeValue;
        var attributes = stackalloc CkAttribute[types.Length];
        for (var i = 0; i < types.Length; i++) attributes[i] = new CkAttribute { Type = types[i] };
        CheckAttributeRead(getAttributeValue(session, handle, attributes, (nuint)types.Length));

        var values = new byte[]?[types.Length];
        var pins = new GCHandle[types.Length];
        try
        {
            for (var i = 0; i < types.Length; i++)
            {
                if (attributes[i].ValueLength == Ck.UnavailableInformation) continue;
                values[i] = new byte[(int)attributes[i].ValueLength];
                pins[i] = GCHandle.Alloc(values[i], GCHandleType.Pinned);
                attributes[i].Value = pins[i].AddrOfPinnedObject();
            }
            CheckAttributeRead(getAttributeValue(session, handle, attributes, (nuint)types.Length));
            for (var i = 0; i < types.Length; i++)
                if (values[i] is { } v && attributes[i].ValueLength != (nuint)v.Length) values[i] = v[..(int)attributes[i].ValueLength];
        }
        finally
        {
            foreach (var pin in pins)
                if (pin.IsAllocated) pin.Free();
        }
        return values;

        static void CheckAttributeRead(nuint rv)
        {
            if (rv != 0 && rv != Pkcs11ReturnValues.CKR_ATTRIBUTE_SENSITIVE && rv != Pkcs11ReturnValues.CKR_ATTRIBUTE_TYPE_INVALID)
                throw new Pkcs11Exception("C_GetAttributeValue", rv);
        }
    }

    internal void SetAttributes(nuint session, nuint handle, AttributeTemplate template) =>
        Check(((delegate* unmanaged<nuint, nuint, CkAttribute*, nuint, nuint>)_functions->C_SetAttributeValue)(session, handle, template.Pointer, template.Count), "C_SetAttributeValue");

    // ---- Keys ----

    internal (nuint PublicKey, nuint PrivateKey) GenerateKeyPair(nuint session, CkMechanism mechanism, AttributeTemplate publicTemplate, AttributeTemplate privateTemplate)
    {
        nuint publicKey = 0, privateKey = 0;
        var generate = (delegate* unmanaged<nuint, CkMechanism*, CkAttribute*, nuint, CkAttribute*, nuint, nuint*, nuint*, nuint>)_functions->C_GenerateKeyPair;
        Check(generate(session, &mechanism, publicTemplate.Pointer, publicTemplate.Count, privateTemplate.Pointer, privateTemplate.Count, &publicKey, &privateKey), "C_GenerateKeyPair");
        return (publicKey, privateKey);
    }

    internal nuint GenerateKey(nuint session, CkMechanism mechanism, AttributeTemplate template)
    {
        nuint key = 0;
        Check(((delegate* unmanaged<nuint, CkMechanism*, CkAttribute*, nuint, nuint*, nuint>)_functions->C_GenerateKey)(session, &mechanism, template.Pointer, template.Count, &key), "C_GenerateKey");
        return key;
    }

    internal nuint DeriveKey(nuint session, CkMechanism* mechanism, nuint baseKey, AttributeTemplate template)
    {
        nuint key = 0;
        Check(((delegate* unmanaged<nuint, CkMechanism*, nuint, CkAttribute*, nuint, nuint*, nuint>)_functions->C_DeriveKey)(session, mechanism, baseKey, template.Pointer, template.Count, &key), "C_DeriveKey");
        return key;
    }

    // ---- Single-part cryptographic operations (an output buffer of the exact or maximal size: one call each) ----

    internal int Sign(nuint session, CkMechanism* mechanism, nuint key, ReadOnlySpan<byte> data, Span<byte> signature)
    {
        Check(((delegate* unmanaged<nuint, CkMechanism*, nuint, nuint>)_functions->C_SignInit)(session, mechanism, key), "C_SignInit");
        var length = (nuint)signature.Length;
        fixed (byte* d = data)
        fixed (byte* s = signature)
            Check(((delegate* unmanaged<nuint, byte*, nuint, byte*, nuint*, nuint>)_functions->C_Sign)(session, d, (nuint)data.Length, s, &length), "C_Sign");
        return (int)length;
    }

    internal int Encrypt(nuint session, CkMechanism* mechanism, nuint key, ReadOnlySpan<byte> data, Span<byte> output)
    {
        Check(((delegate* unmanaged<nuint, CkMechanism*, nuint, nuint>)_functions->C_EncryptInit)(session, mechanism, key), "C_EncryptInit");
        var length = (nuint)output.Length;
        byte empty = 0; // some modules reject a null pointer even with length 0 (SoftHSM2: CKR_ARGUMENTS_BAD)
        fixed (byte* d = data)
        fixed (byte* o = output)
            Check(((delegate* unmanaged<nuint, byte*, nuint, byte*, nuint*, nuint>)_functions->C_Encrypt)(session, d == null ? &empty : d, (nuint)data.Length, o, &length), "C_Encrypt");
        return (int)length;
    }

    internal int Decrypt(nuint session, CkMechanism* mechanism, nuint key, ReadOnlySpan<byte> data, Span<byte> output)
    {
        Check(((delegate* unmanaged<nuint, CkMechanism*, nuint, nuint>)_functions->C_DecryptInit)(session, mechanism, key), "C_DecryptInit");
        var length = (nuint)output.Length;
        byte empty = 0; // some modules reject a null pointer even with length 0 (SoftHSM2: CKR_ARGUMENTS_BAD)
        fixed (byte* d = data)
        fixed (byte* o = output)
            Check(((delegate* unmanaged<nuint, byte*, nuint, byte*, nuint*, nuint>)_functions->C_Decrypt)(session, d == null ? &empty : d, (nuint)data.Length, o, &length), "C_Decrypt");
        return (int)length;
    }

    internal void GenerateRandom(nuint session, Span<byte> output)
    {
        fixed (byte* o = output)
            Check(((delegate* unmanaged<nuint, byte*, nuint, nuint>)_functions->C_GenerateRandom)(session, o, (nuint)output.Length), "C_GenerateRandom");
    }
}
