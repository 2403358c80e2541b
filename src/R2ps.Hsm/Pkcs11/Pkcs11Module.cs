using System.Runtime.InteropServices;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;

namespace R2ps.Hsm.Pkcs11;

/// <summary>
/// One PKCS#11 module (shared library) of the process, through Pkcs11Interop. PKCS#11 allows one C_Initialize per
/// process, so modules are shared by path and reference-counted: the first <see cref="Acquire"/> loads and initialises
/// (multi-threaded: CKF_OS_LOCKING_OK), the last <see cref="Release"/> finalises. Before handing the file to
/// Pkcs11Interop it is opened here once, to tell a missing or unloadable file from one that is no PKCS#11 module.
/// </summary>
/// <remarks>
/// That first dlopen handle is never freed, so the library stays mapped after Pkcs11Interop's C_Finalize and unload:
/// unloading a module that links OpenSSL is not reliably safe, and a later <see cref="Acquire"/> then re-initialises
/// the same copy.
/// </remarks>
public sealed class Pkcs11Module
{
    private static readonly Dictionary<string, Pkcs11Module> Modules = new(StringComparer.Ordinal);
    private static readonly Lock RegistryLock = new();

    private static bool resolverSet;

    private readonly HashSet<ulong> _openSlots = [];
    private IPkcs11Library? _library;
    private int _references;

    private Pkcs11Module(string path) => Path = path;

    public string Path { get; }

    public Pkcs11InteropFactories Factories { get; } = new();

    /// <summary>The initialised library; only between <see cref="Acquire"/> and the matching <see cref="Release"/>.</summary>
    public IPkcs11Library Library
    {
        get
        {
            lock (RegistryLock) return _library ?? throw new ObjectDisposedException(nameof(Pkcs11Module), $"PKCS#11 module '{Path}' is not initialised.");
        }
    }

    /// <summary>True while any module of the process is initialised (SoftHSM2's configuration is fixed by then).</summary>
    public static bool AnyInitialized
    {
        get
        {
            lock (RegistryLock) return Modules.Values.Any(m => m._references > 0);
        }
    }

    /// <summary>
    /// Serialises creating and destroying token objects in this process: SoftHSM2 has had races in concurrent key
    /// generation, and object creation is rare enough that a lock costs nothing.
    /// </summary>
    public Lock ObjectLifecycleLock { get; } = new();

    /// <summary>
    /// The module at <paramref name="path"/>, loaded and initialised; pair with <see cref="Release"/>. Failures are
    /// <see cref="HsmConfigurationException"/>s saying whether the file is missing, unloadable or not a module.
    /// </summary>
    public static Pkcs11Module Acquire(string path)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS() && !OperatingSystem.IsFreeBSD() || !Environment.Is64BitProcess)
            throw new PlatformNotSupportedException("The HSM layer supports 64-bit Unix PKCS#11 modules only.");
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var fullPath = System.IO.Path.GetFullPath(path);
        lock (RegistryLock)
        {
            if (!resolverSet)
            {
                NativeLibrary.SetDllImportResolver(typeof(Pkcs11InteropFactories).Assembly, ResolveLibdl);
                resolverSet = true;
            }
            if (!Modules.TryGetValue(fullPath, out var module))
            {
                Probe(fullPath);
                module = new Pkcs11Module(fullPath);
                Modules.Add(fullPath, module);
            }
            if (module._references == 0) module._library = module.Load();
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
            var library = _library;
            _library = null;
            try
            {
                library?.Dispose(); // C_Finalize
            }
            catch (Exception e) when (e is Net.Pkcs11Interop.Common.Pkcs11Exception or UnmanagedException)
            {
                // Nothing useful to do about a failing C_Finalize at shutdown.
            }
        }
    }

    /// <summary>Claims a slot for one logged-in user of this process (login state is per application and token).</summary>
    internal bool TryClaimSlot(ulong slot)
    {
        lock (RegistryLock) return _openSlots.Add(slot);
    }

    internal void ReleaseSlot(ulong slot)
    {
        lock (RegistryLock) _openSlots.Remove(slot);
    }

    /// <summary>
    /// Pkcs11Interop imports dlopen from "libdl". Since glibc 2.34 dlopen lives in libc and only the runtime name
    /// libdl.so.2 is installed (the unversioned libdl.so comes with development packages), so point it there.
    /// </summary>
    private static nint ResolveLibdl(string name, System.Reflection.Assembly assembly, DllImportSearchPath? searchPath) =>
        name == "libdl" && OperatingSystem.IsLinux() && NativeLibrary.TryLoad("libdl.so.2", out var handle) ? handle : 0;

    /// <summary>Opens the file once (kept open, see remarks) and checks that it exports C_GetFunctionList.</summary>
    private static void Probe(string fullPath)
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
        if (!NativeLibrary.TryGetExport(library, "C_GetFunctionList", out _))
        {
            NativeLibrary.Free(library);
            throw new HsmConfigurationException(HsmBootFailure.NotAPkcs11Module, $"'{fullPath}' is not a PKCS#11 module: it exports no C_GetFunctionList.");
        }
    }

    private IPkcs11Library Load()
    {
        try
        {
            return Factories.Pkcs11LibraryFactory.LoadPkcs11Library(Factories, Path, AppType.MultiThreaded);
        }
        catch (Net.Pkcs11Interop.Common.Pkcs11Exception e)
        {
            throw new HsmConfigurationException(HsmBootFailure.NotAPkcs11Module, $"PKCS#11 module '{Path}': {e.Method} failed: {HsmPkcs11Exception.NameOf(e.RV)}.", HsmPkcs11Exception.From(e));
        }
        catch (UnmanagedException e)
        {
            throw new HsmConfigurationException(HsmBootFailure.NotAPkcs11Module, $"PKCS#11 module '{Path}' could not be used: {e.Message}", e);
        }
    }
}
