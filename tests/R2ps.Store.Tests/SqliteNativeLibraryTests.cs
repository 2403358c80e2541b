using System.Runtime.InteropServices;
using Microsoft.EntityFrameworkCore;

namespace R2ps.Store.Tests;

public sealed class SqliteNativeLibraryTests
{
    // The bundled e_sqlite3 of SQLitePCLRaw 2.0.6 is SQLite 3.35.5, built without usleep (lock waits of whole seconds).
    private const string BundledVersion = "3.35.5";

    [Fact]
    public async Task The_store_runs_on_the_systems_sqlite_not_the_bundled_copy()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, _) = await TestStore.CreateAsync();
        await using var __ = store;

        await using var db = store.OpenContext();
        await db.Database.OpenConnectionAsync(ct);
        var version = db.Database.GetDbConnection().ServerVersion;

        Assert.Equal(Marshal.PtrToStringUTF8(SystemLibraryVersion()), version);
        Assert.NotEqual(BundledVersion, version);
    }

    [DllImport("libsqlite3.so.0", EntryPoint = "sqlite3_libversion")]
    private static extern IntPtr SystemLibraryVersion();
}
