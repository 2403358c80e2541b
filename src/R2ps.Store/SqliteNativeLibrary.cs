using System.Reflection;
using System.Runtime.InteropServices;

namespace R2ps.Store;

/// <summary>
/// Points SQLitePCLRaw at the operating system's SQLite (Debian's <c>libsqlite3.so.0</c>, patched with the OS) instead
/// of the copy bundled in SQLitePCLRaw.lib.e_sqlite3 2.0.6 — the newest the package registry serves for EF Core 6. That
/// copy was built without <c>HAVE_USLEEP</c>, so its busy handler sleeps in whole seconds: every lock wait between two
/// workers on one database file cost at least 1 s (measured: 1,006 ms to wait out a 100 ms lock; 104 ms with the system
/// library). Where no system library exists, the bundled copy stays in use.
/// </summary>
public static class SqliteNativeLibrary
{
    private const string BundledName = "e_sqlite3";
    private const string SystemLibrary = "libsqlite3.so.0";
    private static int _installed;

    /// <summary>Installs the redirect once per process; call before the first SQLite connection opens.</summary>
    public static void UseSystemLibraryWhenPresent()
    {
        if (Interlocked.Exchange(ref _installed, 1) == 1) return;
        NativeLibrary.SetDllImportResolver(typeof(SQLitePCL.SQLite3Provider_e_sqlite3).Assembly, Resolve);
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath) =>
        name == BundledName && NativeLibrary.TryLoad(SystemLibrary, out var handle) ? handle : IntPtr.Zero;
}
