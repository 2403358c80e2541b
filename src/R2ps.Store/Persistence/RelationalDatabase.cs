using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

namespace R2ps.Store;

/// <summary>The provider names a <c>Provider</c> key accepts (case-insensitive).</summary>
public static class DatabaseProviders
{
    /// <summary>One SQLite file shared by every process on the host (WAL mode); the default.</summary>
    public const string Sqlite = "sqlite";

    /// <summary>PostgreSQL, for processes on several hosts.</summary>
    public const string Postgres = "postgres";

    /// <summary>The canonical name of <paramref name="provider"/>, or null when it is not one of the two.</summary>
    public static string? Normalize(string? provider) =>
        provider?.Trim().ToUpperInvariant() switch
        {
            "SQLITE" => Sqlite,
            "POSTGRES" or "POSTGRESQL" or "NPGSQL" => Postgres,
            _ => null,
        };
}

/// <summary>
/// The one persistence set-up every DbContext here uses (the store's, the sign-session saga's, the BFF's device
/// sessions): the provider named by configuration, its connection string, a bounded wait for locks, and the
/// classification of errors a caller may retry. SQLite gets WAL journal mode and a busy timeout on every connection, so
/// several processes can share one file; PostgreSQL gets the same bound as its <c>lock_timeout</c>, and both get it,
/// rounded up to whole seconds, as their command timeout.
/// </summary>
public static class RelationalDatabase
{
    /// <summary>The SQLite statement that bounds a connection's wait for another's lock (it belongs to the connection's handle).</summary>
    internal static string SqliteBusyTimeoutPragma(TimeSpan busyTimeout) =>
        string.Create(CultureInfo.InvariantCulture, $"PRAGMA busy_timeout = {(long)busyTimeout.TotalMilliseconds};");

    /// <summary>The command timeout for a lock wait of <paramref name="busyTimeout"/>: whole seconds, at least 1 (0 means no limit).</summary>
    public static int CommandTimeoutSeconds(TimeSpan busyTimeout) => Math.Max(1, (int)Math.Ceiling(busyTimeout.TotalSeconds));

    /// <summary>Configures <paramref name="builder"/> for <paramref name="provider"/> and <paramref name="connectionString"/>.</summary>
    /// <param name="builder">The options to configure.</param>
    /// <param name="provider">A name <see cref="DatabaseProviders.Normalize"/> accepts.</param>
    /// <param name="connectionString">The provider's connection string.</param>
    /// <param name="busyTimeout">How long a statement waits for another connection's lock before it fails.</param>
    /// <exception cref="ArgumentException">The provider is not supported.</exception>
    public static DbContextOptionsBuilder Configure(
        DbContextOptionsBuilder builder, string? provider, string connectionString, TimeSpan busyTimeout)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(connectionString);
        var seconds = CommandTimeoutSeconds(busyTimeout);
        switch (DatabaseProviders.Normalize(provider))
        {
            case DatabaseProviders.Sqlite:
                builder.UseSqlite(WithSqliteDefaultTimeout(connectionString, seconds), sqlite => sqlite.CommandTimeout(seconds));
                builder.AddInterceptors(new SqliteConnectionSetup(busyTimeout));
                break;
            case DatabaseProviders.Postgres:
                // No retrying strategy: its wrapping InvalidOperationException would hide the PostgresException, and
                // retries are the callers' (the saga's retry policy, the store's serializable keygen).
                builder.UseNpgsql(WithPostgresTimeouts(connectionString, seconds, busyTimeout), npgsql => npgsql
                    .CommandTimeout(seconds)
                    .ExecutionStrategy(dependencies => new NonRetryingExecutionStrategy(dependencies)));
                break;
            default:
                throw new ArgumentException(UnsupportedProvider("Provider", provider), nameof(provider));
        }

        return builder;
    }

    /// <summary>
    /// What is wrong with <paramref name="provider"/> and <paramref name="connectionString"/> (keys named under
    /// <paramref name="section"/>), or nothing. The messages never echo the connection string: it may hold a password.
    /// </summary>
    public static IEnumerable<string> Validate(string section, string? provider, string? connectionString)
    {
        var normalized = DatabaseProviders.Normalize(provider);
        if (normalized is null)
        {
            yield return UnsupportedProvider($"{section}:Provider", provider);
            yield break;
        }

        if (string.IsNullOrWhiteSpace(connectionString))
        {
            yield return $"{section}:ConnectionString is required.";
            yield break;
        }

        var problem = normalized == DatabaseProviders.Sqlite
            ? CheckSqlite(section, connectionString)
            : CheckPostgres(section, connectionString);
        if (problem is not null)
            yield return problem;
    }

    /// <summary>
    /// Whether <paramref name="exception"/> (bare or wrapped by EF Core) is a lost race for a lock that a retry may win:
    /// SQLite busy or locked after the busy timeout; PostgreSQL serialization failure, deadlock, or a lock not available.
    /// A duplicate key or any other constraint is not transient.
    /// </summary>
    public static bool IsTransient(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            switch (current)
            {
                // SQLITE_BUSY (5) or SQLITE_LOCKED (6), extended codes included.
                case SqliteException sqlite when (sqlite.SqliteErrorCode & 0xff) is 5 or 6:
                    return true;
                case PostgresException postgres when postgres.SqlState is PostgresErrorCodes.SerializationFailure
                    or PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.LockNotAvailable:
                    return true;
            }
        }

        return false;
    }

    /// <summary>Whether <paramref name="exception"/> (bare or wrapped) is a primary-key or unique violation.</summary>
    public static bool IsUniqueViolation(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            switch (current)
            {
                // SQLITE_CONSTRAINT_PRIMARYKEY (1555) or SQLITE_CONSTRAINT_UNIQUE (2067).
                case SqliteException sqlite when sqlite.SqliteExtendedErrorCode is 1555 or 2067:
                    return true;
                case PostgresException { SqlState: PostgresErrorCodes.UniqueViolation }:
                    return true;
            }
        }

        return false;
    }

    internal static string UnsupportedProvider(string key, string? provider) =>
        $"{key} '{provider}' is not supported; use '{DatabaseProviders.Sqlite}' or '{DatabaseProviders.Postgres}'.";

    /// <summary>
    /// The connection string with <c>Default Timeout</c> (the command timeout of commands made on the connection, outside
    /// EF Core too) set to <paramref name="seconds"/>, unless the connection string sets it itself.
    /// </summary>
    internal static string WithSqliteDefaultTimeout(string connectionString, int seconds)
    {
        // "Default Timeout" and its alias "Command Timeout" are the only keywords that mention a timeout.
        if (connectionString.Contains("timeout", StringComparison.OrdinalIgnoreCase))
            return connectionString;
        return new SqliteConnectionStringBuilder(connectionString) { DefaultTimeout = seconds }.ToString();
    }

    /// <summary>
    /// The connection string with <c>Command Timeout</c> set to <paramref name="seconds"/> and the server's
    /// <c>lock_timeout</c> to <paramref name="busyTimeout"/>, unless it sets them itself. <c>lock_timeout</c> is
    /// PostgreSQL's counterpart of SQLite's busy timeout: a statement that waits longer for another transaction's lock
    /// fails with lock_not_available (55P03), which <see cref="IsTransient"/> counts as a lost race.
    /// </summary>
    internal static string WithPostgresTimeouts(string connectionString, int seconds, TimeSpan busyTimeout)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (!connectionString.Contains("command timeout", StringComparison.OrdinalIgnoreCase)
            && !connectionString.Contains("commandtimeout", StringComparison.OrdinalIgnoreCase))
        {
            builder.CommandTimeout = seconds;
        }

        if (builder.Options?.Contains("lock_timeout", StringComparison.OrdinalIgnoreCase) != true)
        {
            var option = string.Create(CultureInfo.InvariantCulture, $"-c lock_timeout={Math.Max(1, (long)busyTimeout.TotalMilliseconds)}");
            builder.Options = string.IsNullOrWhiteSpace(builder.Options) ? option : $"{builder.Options} {option}";
        }

        return builder.ConnectionString;
    }

    private static string? CheckSqlite(string section, string connectionString)
    {
        SqliteConnectionStringBuilder builder;
        try
        {
            builder = new SqliteConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException)
        {
            // The parser's message may echo the string; ours does not.
            return $"{section}:ConnectionString is not a valid SQLite connection string (expected e.g. 'Data Source=/var/lib/r2ps/store.db').";
        }

        if (string.IsNullOrWhiteSpace(builder.DataSource))
            return $"{section}:ConnectionString for SQLite needs a 'Data Source' file path.";
        if (builder.Mode == SqliteOpenMode.Memory || builder.DataSource.Trim() == ":memory:")
            return $"{section}:ConnectionString for SQLite must name a file: an in-memory database is not shared between processes and does not survive a restart.";
        return builder.Mode == SqliteOpenMode.ReadOnly
            ? $"{section}:ConnectionString for SQLite must not be read-only: it is written."
            : null;
    }

    private static string? CheckPostgres(string section, string connectionString)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException)
        {
            return $"{section}:ConnectionString is not a valid PostgreSQL connection string (expected e.g. 'Host=db;Database=r2ps;Username=r2ps;Password=…').";
        }

        if (string.IsNullOrWhiteSpace(builder.Host))
            return $"{section}:ConnectionString for PostgreSQL needs a 'Host'.";
        return string.IsNullOrWhiteSpace(builder.Database)
            ? $"{section}:ConnectionString for PostgreSQL needs a 'Database'."
            : null;
    }

    /// <summary>
    /// Sets the per-connection SQLite pragmas once per physical connection: busy_timeout on every new handle, journal_mode=WAL
    /// on opens until it took once. A pooled <see cref="SqliteConnection"/> hands the same sqlite3 handle out again with
    /// its pragmas still set (they belong to the handle), so running them on every open — every store call — only cost a
    /// statement per call (issue 9: it showed in the request path's profile).
    /// </summary>
    private sealed class SqliteConnectionSetup(TimeSpan busyTimeout) : DbConnectionInterceptor
    {
        private readonly string _busyTimeout = SqliteBusyTimeoutPragma(busyTimeout);

        // busy_timeout first: switching to WAL needs a lock that another process may hold for a moment.
        private readonly string _both = SqliteBusyTimeoutPragma(busyTimeout) + " PRAGMA journal_mode = WAL;";

        // The handles already set up; weak, so a handle the pool closes is forgotten with it.
        private readonly System.Runtime.CompilerServices.ConditionalWeakTable<object, object> _configured = [];

        private volatile bool _walSet;

        public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
        {
            if (IsConfigured(connection)) return;
            var wal = !_walSet;
            using var command = connection.CreateCommand();
            command.CommandText = wal ? _both : _busyTimeout;
            command.ExecuteNonQuery();
            Configured(connection, wal);
        }

        public override async Task ConnectionOpenedAsync(
            DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
        {
            if (IsConfigured(connection)) return;
            var wal = !_walSet;
            var command = connection.CreateCommand();
            await using (command.ConfigureAwait(false))
            {
                command.CommandText = wal ? _both : _busyTimeout;
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            Configured(connection, wal);
        }

        private bool IsConfigured(DbConnection connection) =>
            connection is SqliteConnection { Handle: { } handle } && _configured.TryGetValue(handle, out _);

        private void Configured(DbConnection connection, bool wal)
        {
            if (wal) _walSet = true;
            if (connection is SqliteConnection { Handle: { } handle }) _configured.AddOrUpdate(handle, handle);
        }
    }
}

/// <summary>Points the store's <see cref="DbContextOptionsBuilder"/> at the database <see cref="StoreOptions"/> name.</summary>
public static class StoreDatabase
{
    /// <summary>Configures the provider and connection named by <paramref name="options"/>.</summary>
    /// <exception cref="ArgumentException">The provider is not supported.</exception>
    public static DbContextOptionsBuilder Configure(DbContextOptionsBuilder builder, StoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return RelationalDatabase.Configure(builder, options.Provider, options.ConnectionString, options.SqliteBusyTimeout);
    }
}
