using Microsoft.Data.Sqlite;

namespace R2ps.Sessions.Tests;

/// <summary>A SQLite database file of its own for one test, removed (with its WAL files) afterwards.</summary>
internal sealed class TempDatabase : IDisposable
{
    public TempDatabase() =>
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"r2ps-sessions-{Guid.NewGuid():N}.db");

    public string Path { get; }

    public string ConnectionString => $"Data Source={Path}";

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        foreach (var suffix in new[] { "", "-wal", "-shm" })
            File.Delete(Path + suffix);
    }
}
