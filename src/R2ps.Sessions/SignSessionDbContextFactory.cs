using System.Data.Common;
using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Options;

namespace R2ps.Sessions;

/// <summary>
/// Creates <see cref="SignSessionDbContext"/>s on the configured SQLite database. The first context it creates makes
/// sure the sign-session table exists, so no caller depends on the start order of hosted services.
/// </summary>
public sealed class SignSessionDbContextFactory : IDbContextFactory<SignSessionDbContext>
{
    readonly DbContextOptions<SignSessionDbContext> _options;
    readonly Lock _schemaLock = new();
    volatile bool _schemaReady;

    /// <summary>Builds the context options from <see cref="SignSessionOptions"/>.</summary>
    public SignSessionDbContextFactory(IOptions<SignSessionOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var settings = options.Value;
        _options = new DbContextOptionsBuilder<SignSessionDbContext>()
            // Microsoft.Data.Sqlite retries a busy statement until the command timeout (30 s by default): bound it too.
            .UseSqlite(WithDefaultTimeout(settings.ConnectionString, settings.CommandTimeoutSeconds),
                sqlite => sqlite.CommandTimeout(settings.CommandTimeoutSeconds))
            .AddInterceptors(new SqliteBusyTimeout(settings.BusyTimeout))
            .Options;
    }

    /// <inheritdoc />
    public SignSessionDbContext CreateDbContext()
    {
        EnsureSchema();
        return new SignSessionDbContext(_options);
    }

    /// <summary>Creates the sign-session table and its indexes unless they exist. Idempotent and safe under concurrent starts.</summary>
    public void EnsureSchema()
    {
        if (_schemaReady)
            return;

        lock (_schemaLock)
        {
            if (_schemaReady)
                return;

            using var db = new SignSessionDbContext(_options);
            SignSessionSchema.Create(db);
            _schemaReady = true;
        }
    }

    /// <summary>
    /// The connection string with <c>Default Timeout</c> (the command timeout of commands made on the connection, outside
    /// EF Core too) set to <paramref name="seconds"/>, unless the connection string sets a timeout itself.
    /// </summary>
    internal static string WithDefaultTimeout(string connectionString, int seconds) =>
        // "Default Timeout" and its alias "Command Timeout" are the only keywords that mention a timeout.
        connectionString.Contains("timeout", StringComparison.OrdinalIgnoreCase)
            ? connectionString
            : new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(connectionString) { DefaultTimeout = seconds }.ToString();

    /// <summary>Sets SQLite's busy timeout on every connection, so two processes on one file wait for each other's writes.</summary>
    sealed class SqliteBusyTimeout(TimeSpan timeout) : DbConnectionInterceptor
    {
        readonly string _pragma = string.Create(CultureInfo.InvariantCulture, $"PRAGMA busy_timeout = {(long)timeout.TotalMilliseconds};");

        public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
        {
            using var command = connection.CreateCommand();
            command.CommandText = _pragma;
            command.ExecuteNonQuery();
        }

        public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData,
            CancellationToken cancellationToken = default)
        {
            var command = connection.CreateCommand();
            await using (command.ConfigureAwait(false))
            {
                command.CommandText = _pragma;
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
