using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace R2ps.Store;

/// <summary>
/// Points a <see cref="DbContextOptionsBuilder"/> at the store's database as <see cref="StoreOptions"/> say. Other
/// contexts that share the database (the sign-session saga's) use this too, so every process opens it the same way:
/// for SQLite, WAL journal mode and a busy timeout, so several worker processes can share one file.
/// PostgreSQL is a recognised provider name but refused (no EF Core 6 provider is served here). The store's
/// hand-written upserts were checked on PostgreSQL 15 and <see cref="RelationalSchema"/> has a PostgreSQL path, so
/// enabling it means adding <c>UseNpgsql</c> here and testing that path.
/// </summary>
public static class StoreDatabase
{
    /// <summary>Configures the provider and connection named by <paramref name="options"/>.</summary>
    /// <exception cref="ArgumentException">The provider is not supported.</exception>
    public static DbContextOptionsBuilder Configure(DbContextOptionsBuilder builder, StoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        switch (TryNormalizeProvider(options.Provider))
        {
            case StoreProviders.Sqlite:
                builder.UseSqlite(WithDefaultTimeout(options.ConnectionString, options.SqliteCommandTimeoutSeconds),
                    sqlite => sqlite.CommandTimeout(options.SqliteCommandTimeoutSeconds));
                builder.AddInterceptors(new SqliteConnectionSetup(options.SqliteBusyTimeout));
                break;
            case StoreProviders.Postgres:
                throw new NotSupportedException(PostgresUnavailable);
            default:
                throw new ArgumentException(
                    $"Store provider '{options.Provider}' is not supported; use '{StoreProviders.Sqlite}' or '{StoreProviders.Postgres}'.",
                    nameof(options));
        }

        return builder;
    }

    /// <summary>
    /// The connection string with <c>Default Timeout</c> (the command timeout of commands made on the connection, outside
    /// EF Core too) set to <paramref name="seconds"/>, unless the connection string sets it itself.
    /// </summary>
    internal static string WithDefaultTimeout(string connectionString, int seconds)
    {
        // "Default Timeout" and its alias "Command Timeout" are the only keywords that mention a timeout.
        if (connectionString.Contains("timeout", StringComparison.OrdinalIgnoreCase))
            return connectionString;
        return new SqliteConnectionStringBuilder(connectionString) { DefaultTimeout = seconds }.ToString();
    }

    /// <summary>Why <see cref="StoreProviders.Postgres"/> is refused in this build.</summary>
    internal const string PostgresUnavailable =
        "Store:Provider 'postgres' is not available in this build: no PostgreSQL provider for EF Core 6 is served by the "
        + "package registry (Npgsql.EntityFrameworkCore.PostgreSQL 6.x needs Npgsql 6.x). Use 'sqlite'.";

    internal static string? TryNormalizeProvider(string? provider) =>
        provider?.Trim().ToUpperInvariant() switch
        {
            "SQLITE" => StoreProviders.Sqlite,
            "POSTGRES" or "POSTGRESQL" or "NPGSQL" => StoreProviders.Postgres,
            _ => null,
        };

    /// <summary>Sets the per-connection SQLite pragmas on every open (pooled connections included).</summary>
    private sealed class SqliteConnectionSetup(TimeSpan busyTimeout) : DbConnectionInterceptor
    {
        // busy_timeout first: switching to WAL needs a lock that another process may hold for a moment.
        // journal_mode=WAL is stored in the file; once set, repeating it is a no-op.
        private readonly string _pragmas = string.Create(
            CultureInfo.InvariantCulture,
            $"PRAGMA busy_timeout = {(long)busyTimeout.TotalMilliseconds}; PRAGMA journal_mode = WAL;");

        public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
        {
            if (connection is SqliteConnection)
            {
                using var command = connection.CreateCommand();
                command.CommandText = _pragmas;
                command.ExecuteNonQuery();
            }
        }

        public override async Task ConnectionOpenedAsync(
            DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
        {
            if (connection is SqliteConnection)
            {
                var command = connection.CreateCommand();
                await using (command.ConfigureAwait(false))
                {
                    command.CommandText = _pragmas;
                    await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }
}
