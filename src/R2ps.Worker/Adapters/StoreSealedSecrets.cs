using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using R2ps.Service.Ports;
using R2ps.Store;

namespace R2ps.Worker.Adapters;

/// <summary>
/// <see cref="ISealedSecretStore"/> (the sealed OPRF seed) in a table of its own in the shared store's database:
/// <c>r2ps_sealed_secrets(name, value)</c>, created on first use, written once (insert-if-absent, so the first of
/// several starting workers wins and the others read its value). Plain SQL that SQLite and
/// PostgreSQL both accept, apart from the blob type.
/// </summary>
/// <remarks>R2ps.Store has no such table yet; this keeps the worker self-sufficient until it has one.</remarks>
internal sealed class StoreSealedSecrets(IDbContextFactory<R2psStoreDbContext> factory) : ISealedSecretStore
{
    const string Table = "r2ps_sealed_secrets";

    public async Task<byte[]?> GetAsync(string name, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return await WithCommandAsync($"SELECT value FROM {Table} WHERE name = @name", name, null, async command =>
            await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as byte[], cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> TryAddAsync(string name, byte[] sealedValue, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(sealedValue);
        var inserted = await WithCommandAsync(
            $"INSERT INTO {Table} (name, value) VALUES (@name, @value) ON CONFLICT (name) DO NOTHING", name, sealedValue,
            command => command.ExecuteNonQueryAsync(cancellationToken), cancellationToken).ConfigureAwait(false);
        return inserted == 1;
    }

    async Task<T> WithCommandAsync<T>(string sql, string name, byte[]? value, Func<DbCommand, Task<T>> run, CancellationToken cancellationToken)
    {
        var db = await factory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        await using (db.ConfigureAwait(false))
        {
            var blobType = db.Database.ProviderName?.Contains("Npgsql", StringComparison.Ordinal) == true ? "BYTEA" : "BLOB";
            await db.Database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            var connection = db.Database.GetDbConnection();
            var create = connection.CreateCommand();
            await using (create.ConfigureAwait(false))
            {
#pragma warning disable CA2100 // Fixed text: the table name is a constant and the type one of two literals.
                create.CommandText = $"CREATE TABLE IF NOT EXISTS {Table} (name VARCHAR(128) NOT NULL PRIMARY KEY, value {blobType} NOT NULL)";
#pragma warning restore CA2100
                await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            var command = connection.CreateCommand();
            await using (command.ConfigureAwait(false))
            {
#pragma warning disable CA2100 // Fixed text; the values are parameters.
                command.CommandText = sql;
#pragma warning restore CA2100
                AddParameter(command, "@name", name);
                if (value is not null)
                    AddParameter(command, "@value", value);
                return await run(command).ConfigureAwait(false);
            }
        }
    }

    static void AddParameter(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}
