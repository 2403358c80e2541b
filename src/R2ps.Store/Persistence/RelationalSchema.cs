using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.EntityFrameworkCore.Migrations.Operations;
using Microsoft.EntityFrameworkCore.Storage;

namespace R2ps.Store;

/// <summary>
/// Creates a context's tables when they are absent. <c>EnsureCreated</c> does nothing once the database exists, which
/// it does as soon as any other context (the saga's) created its own tables there; this creates exactly the missing
/// tables of <em>this</em> context, and is safe when several processes start at once: the check and the creation run in
/// one write transaction (SQLite: <c>BEGIN IMMEDIATE</c>; PostgreSQL: under a transaction-scoped advisory lock), and both
/// databases roll DDL back with the transaction.
/// </summary>
public static class RelationalSchema
{
    private const string NpgsqlProviderName = "Npgsql.EntityFrameworkCore.PostgreSQL";

    // Any constant shared by every process; it only serialises schema creation.
    private const long PostgresAdvisoryLockKey = 0x5232_5053_5343_4845; // "R2PSSCHE"

    /// <summary>Creates the tables (and their indexes) of <paramref name="context"/>'s model that the database lacks.</summary>
    /// <returns>The names of the tables created (empty when all existed).</returns>
    /// <exception cref="NotSupportedException">The provider is neither SQLite nor PostgreSQL.</exception>
    public static async Task<IReadOnlyList<string>> EnsureTablesCreatedAsync(DbContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var database = context.Database;
        var isSqlite = database.IsSqlite();
        if (!isSqlite && database.ProviderName != NpgsqlProviderName)
        {
            throw new NotSupportedException($"Schema creation supports SQLite and PostgreSQL, not '{database.ProviderName}'.");
        }

        if (isSqlite)
        {
            CreateSqliteDirectory(database.GetDbConnection());
        }
        else
        {
            await CreatePostgresDatabaseIfAbsentAsync(context, cancellationToken).ConfigureAwait(false);
        }

        await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var tx = await database.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (tx.ConfigureAwait(false))
            {
                var connection = database.GetDbConnection();
                var transaction = tx.GetDbTransaction();
                if (!isSqlite)
                {
                    await ExecuteAsync(connection, transaction, $"SELECT pg_advisory_xact_lock({PostgresAdvisoryLockKey})", cancellationToken)
                        .ConfigureAwait(false);
                }

                var existing = await ExistingTablesAsync(connection, transaction, isSqlite, cancellationToken).ConfigureAwait(false);
                var model = context.GetService<IDesignTimeModel>().Model;
                var operations = context.GetService<IMigrationsModelDiffer>()
                    .GetDifferences(null, model.GetRelationalModel())
                    .Where(op => op is not ITableMigrationOperation table || !existing.Contains(Qualified(table.Schema, table.Table)))
                    .ToList();
                var created = operations.OfType<CreateTableOperation>().Select(op => Qualified(op.Schema, op.Name)).ToList();
                if (created.Count == 0)
                {
                    return [];
                }

                var commands = context.GetService<IMigrationsSqlGenerator>().Generate(operations, model);
                foreach (var command in commands)
                {
                    await ExecuteAsync(connection, transaction, command.CommandText, cancellationToken).ConfigureAwait(false);
                }

                await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
                return created;
            }
        }
        finally
        {
            await database.CloseConnectionAsync().ConfigureAwait(false);
        }
    }

    private static string Qualified(string? schema, string table) => schema is null ? table : $"{schema}.{table}";

    private static async Task<HashSet<string>> ExistingTablesAsync(
        DbConnection connection, DbTransaction transaction, bool isSqlite, CancellationToken cancellationToken)
    {
        var command = connection.CreateCommand();
        await using (command.ConfigureAwait(false))
        {
            command.Transaction = transaction;
            command.CommandText = isSqlite
                ? "SELECT name, 1 FROM sqlite_master WHERE type = 'table'"
                : "SELECT table_schema || '.' || table_name, 0 FROM information_schema.tables "
                  + "UNION ALL SELECT table_name, 0 FROM information_schema.tables WHERE table_schema = current_schema()";
            // SQLite table names are case-insensitive; PostgreSQL's (quoted, as EF writes them) are not.
            var names = new HashSet<string>(isSqlite ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal);
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    names.Add(reader.GetString(0));
                }
            }

            return names;
        }
    }

    private static async Task ExecuteAsync(
        DbConnection connection, DbTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        var command = connection.CreateCommand();
        await using (command.ConfigureAwait(false))
        {
            command.Transaction = transaction;
#pragma warning disable CA2100 // The SQL is EF Core's own DDL for the model, or a constant; no input reaches it.
            command.CommandText = sql;
#pragma warning restore CA2100
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static void CreateSqliteDirectory(DbConnection connection)
    {
        var dataSource = new SqliteConnectionStringBuilder(connection.ConnectionString).DataSource;
        var directory = Path.GetDirectoryName(Path.GetFullPath(dataSource));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }
    }

    private static async Task CreatePostgresDatabaseIfAbsentAsync(DbContext context, CancellationToken cancellationToken)
    {
        var creator = context.GetService<IRelationalDatabaseCreator>();
        if (await creator.ExistsAsync(cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        try
        {
            await creator.CreateAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (DbException)
        {
            // Another process may have created it first; anything else is rethrown.
            if (!await creator.ExistsAsync(cancellationToken).ConfigureAwait(false))
            {
                throw;
            }
        }
    }
}
