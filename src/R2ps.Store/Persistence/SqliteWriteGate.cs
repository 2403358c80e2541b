using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;

namespace R2ps.Store;

/// <summary>
/// One first-come-first-served turn per SQLite file for this process's busiest writers: the store's group commit
/// (<see cref="StoreWriteBatcher"/>) and the sign-session saga's saves. SQLite has one writer at a time, and a writer
/// that finds the file locked sleeps in its busy handler in growing steps (up to 100 ms) and retries; the group commit,
/// which starts its next transaction the moment the last one committed, won almost every such race, so under load a
/// saga save waited hundreds of milliseconds (seen in `bench e2e`: logins and closes queued behind the commits). Taking
/// turns here, a save waits for at most the batch in progress. Other processes sharing the file still meet at SQLite's
/// lock; PostgreSQL has no such gate (its writers do not exclude each other).
/// </summary>
public static class SqliteWriteGate
{
    private static readonly ConcurrentDictionary<string, SemaphoreSlim> Gates = new(StringComparer.Ordinal);

    // Connection string → its file's gate (or none), so a caller that knows only its connection asks once.
    private static readonly ConcurrentDictionary<string, SemaphoreSlim?> ByConnectionString = new(StringComparer.Ordinal);

    /// <summary>The gate of the SQLite file an EF Core context of provider <paramref name="providerName"/> connects to; null when it is not SQLite.</summary>
    public static SemaphoreSlim? ForContext(string? providerName, string? connectionString) =>
        providerName is "Microsoft.EntityFrameworkCore.Sqlite" && connectionString is not null
            ? ByConnectionString.GetOrAdd(connectionString, static cs => For(DatabaseProviders.Sqlite, cs))
            : null;

    /// <summary>The gate of the SQLite file <paramref name="connectionString"/> names; null for another provider or an in-memory database.</summary>
    public static SemaphoreSlim? For(string? provider, string? connectionString)
    {
        if (DatabaseProviders.Normalize(provider) != DatabaseProviders.Sqlite || string.IsNullOrWhiteSpace(connectionString))
            return null;
        var dataSource = new SqliteConnectionStringBuilder(connectionString).DataSource;
        if (string.IsNullOrEmpty(dataSource) || dataSource.Equals(":memory:", StringComparison.OrdinalIgnoreCase))
            return null;
        return Gates.GetOrAdd(Path.GetFullPath(dataSource), static _ => new SemaphoreSlim(1, 1));
    }

    /// <summary>Waits for the turn (when there is a gate) and returns what gives it back.</summary>
    public static async ValueTask<Turn> EnterAsync(SemaphoreSlim? gate, CancellationToken cancellationToken)
    {
        if (gate is null) return default;
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new Turn(gate);
    }

    /// <summary>A turn at the gate; disposing gives it back (a default one holds nothing).</summary>
    public readonly struct Turn(SemaphoreSlim? gate) : IDisposable
    {
        public void Dispose() => gate?.Release();
    }
}
