using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;

namespace R2ps.Store;

/// <summary>
/// One first-come-first-served turn per SQLite file for the busiest writers: the store's group commit
/// (<see cref="StoreWriteBatcher"/>) and the sign-session saga's saves. SQLite has one writer at a time, and a writer
/// that finds the file locked sleeps in its busy handler in growing steps (1, 2, 5 … up to 100 ms) and retries however
/// soon the lock is free again. Inside a process the group commit, which starts its next transaction the moment the last
/// one committed, won almost every such race, so under load a saga save waited hundreds of milliseconds; between the
/// worker processes that share one file, each commit that met the other's sleeps at least a millisecond (issue 9).
/// So a turn is two locks: a semaphore among this process's writers, then an exclusive <c>flock</c> on
/// <c>&lt;database&gt;-writer.lock</c> (<see cref="LockFileSuffix"/>) among the processes, which wakes a waiter the
/// moment the holder lets go. Both sit in front of SQLite's own lock, not instead of it; PostgreSQL has no gate (its
/// writers do not exclude each other).
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001",
    Justification = "A gate lives as long as the process (one per file, cached); the lock file closes with the process.")]
public sealed class SqliteWriteGate
{
    /// <summary>Appended to the database file's path to name the lock file the processes meet at.</summary>
    public const string LockFileSuffix = "-writer.lock";

    private static readonly ConcurrentDictionary<string, SqliteWriteGate> Gates = new(StringComparer.Ordinal);

    // Connection string → its file's gate (or none), so a caller that knows only its connection asks once.
    private static readonly ConcurrentDictionary<string, SqliteWriteGate?> ByConnectionString = new(StringComparer.Ordinal);

    private readonly SemaphoreSlim _turns = new(1, 1);

    // Opened at the first turn, not when the gate is made: a host builds its writers before the data folder need exist.
    private readonly Lazy<FileWriteLock?> _acrossProcesses;

    /// <summary>A gate of its own for <paramref name="databaseFile"/>, apart from the process-wide one (for tests: two gates on one file meet only at the lock file, as two processes do).</summary>
    internal SqliteWriteGate(string databaseFile)
    {
        DatabaseFile = databaseFile;
        _acrossProcesses = new(() => FileWriteLock.TryOpen(databaseFile + LockFileSuffix));
    }

    /// <summary>The database file this gate is for.</summary>
    public string DatabaseFile { get; }

    /// <summary>Whether turns also exclude other processes (false where the lock file could not be opened, or off Linux).</summary>
    public bool ExcludesOtherProcesses => _acrossProcesses.Value is not null;

    /// <summary>The gate of the SQLite file an EF Core context of provider <paramref name="providerName"/> connects to; null when it is not SQLite.</summary>
    public static SqliteWriteGate? ForContext(string? providerName, string? connectionString) =>
        providerName is "Microsoft.EntityFrameworkCore.Sqlite" && connectionString is not null
            ? ByConnectionString.GetOrAdd(connectionString, static cs => For(DatabaseProviders.Sqlite, cs))
            : null;

    /// <summary>The gate of the SQLite file <paramref name="connectionString"/> names; null for another provider or an in-memory database.</summary>
    public static SqliteWriteGate? For(string? provider, string? connectionString)
    {
        if (DatabaseProviders.Normalize(provider) != DatabaseProviders.Sqlite || string.IsNullOrWhiteSpace(connectionString))
            return null;
        var dataSource = new SqliteConnectionStringBuilder(connectionString).DataSource;
        if (string.IsNullOrEmpty(dataSource) || dataSource.Equals(":memory:", StringComparison.OrdinalIgnoreCase))
            return null;
        return Gates.GetOrAdd(Path.GetFullPath(dataSource), static file => new SqliteWriteGate(file));
    }

    /// <summary>
    /// Waits for the turn (when there is a gate) and returns what gives it back. Another process holding the file's lock
    /// for longer than <paramref name="timeout"/> (the busy timeout) ends the wait as SQLite's busy handler would: a
    /// <see cref="SqliteException"/> SQLITE_BUSY, which the callers already treat as a lost lock race.
    /// </summary>
    public static async ValueTask<Turn> EnterAsync(SqliteWriteGate? gate, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (gate is null) return default;
        await gate._turns.WaitAsync(cancellationToken).ConfigureAwait(false);
        var fileLock = gate._acrossProcesses.Value;
        if (fileLock is null || fileLock.TryTake()) return new Turn(gate);

        // Held by another process: wait in the kernel on a pool thread (a turn is one commit: milliseconds).
        var wait = Task.Run(fileLock.Take, CancellationToken.None);
        try
        {
            await wait.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
            return new Turn(gate);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            // The blocked flock call cannot be called off: the turn stays taken until it returns, then is given back
            // (lock and semaphore), so no second flock call on the same descriptor ever overlaps it.
            _ = wait.ContinueWith(static (taken, state) => new Turn((SqliteWriteGate)state!).Release(taken.IsCompletedSuccessfully),
                gate, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            if (ex is TimeoutException)
                throw new SqliteException(
                    $"database is locked: another process held the write lock of {gate.DatabaseFile} for the whole busy timeout ({timeout.TotalSeconds:0.#} s).", 5);
            throw;
        }
        catch
        {
            gate._turns.Release(); // flock itself failed: nothing is held
            throw;
        }
    }

    /// <summary>A turn at the gate; disposing gives it back (a default one holds nothing).</summary>
    public readonly struct Turn : IDisposable
    {
        private readonly SqliteWriteGate? _gate;

        internal Turn(SqliteWriteGate gate) => _gate = gate;

        /// <inheritdoc />
        public void Dispose() => Release(fileLockHeld: true);

        internal void Release(bool fileLockHeld)
        {
            if (_gate is null) return;
            if (fileLockHeld) _gate._acrossProcesses.Value?.Release();
            _gate._turns.Release();
        }
    }
}
