using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;
using R2ps.Testing;

namespace R2ps.Sessions.Tests;

/// <summary>
/// A database of its own for one test: a SQLite file (removed with its WAL files afterwards) or a database on the
/// assembly's PostgreSQL server.
/// </summary>
internal sealed class TempDatabase : IDisposable
{
    TempDatabase(TestDatabaseProvider provider, string connectionString, string? path)
    {
        Provider = provider;
        ConnectionString = connectionString;
        Path = path;
    }

    public TestDatabaseProvider Provider { get; }

    public string ConnectionString { get; }

    /// <summary>The SQLite file, or null on PostgreSQL.</summary>
    public string? Path { get; }

    /// <summary>A SQLite file.</summary>
    public TempDatabase()
        : this(TestDatabaseProvider.Sqlite, string.Empty, null)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"r2ps-sessions-{Guid.NewGuid():N}.db");
        ConnectionString = $"Data Source={Path}";
    }

    public static async Task<TempDatabase> CreateAsync(TestDatabaseProvider provider)
    {
        ArgumentNullException.ThrowIfNull(provider);
        if (provider.IsSqlite)
            return new TempDatabase();
        var connectionString = await provider.NewConnectionStringAsync(System.IO.Path.GetTempPath(), "sessions",
            TestContext.Current.CancellationToken);
        return new TempDatabase(provider, connectionString, null);
    }

    /// <summary>Sets the saga's provider and connection string to this database.</summary>
    public void Apply(SignSessionOptions options)
    {
        options.Provider = Provider.Name;
        options.ConnectionString = ConnectionString;
    }

    /// <summary>A plain ADO.NET connection to this database, as another process would open it.</summary>
    public DbConnection OpenConnection() =>
        Provider.IsSqlite ? new SqliteConnection(ConnectionString) : new NpgsqlConnection(ConnectionString);

    public void Dispose()
    {
        if (Path is null)
            return;
        SqliteConnection.ClearAllPools();
        foreach (var suffix in new[] { "", "-wal", "-shm", R2ps.Store.SqliteWriteGate.LockFileSuffix })
            File.Delete(Path + suffix);
    }
}
