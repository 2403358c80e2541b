using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace R2ps.Store;

/// <summary>The nonce insert-if-absent, one statement shared by the plain, batched and ledger paths.</summary>
internal static class NonceStatements
{
    // One text for both forms below, in EF Core's raw-SQL form ({0} … are its parameters): client_id, nonce, expires_ms, now_ms.
    private const string InsertIfAbsentSql =
        """
        INSERT INTO r2ps_nonces (client_id, nonce, expires_ms) VALUES ({0}, {1}, {2})
        ON CONFLICT (client_id, nonce) DO UPDATE SET expires_ms = excluded.expires_ms
        WHERE r2ps_nonces.expires_ms <= {3}
        """;

    /// <summary>
    /// True when recorded. A row that expired but was not pruned yet is taken over (its update counts as one affected
    /// row); a live row is left alone and nothing is affected: a replay.
    /// </summary>
    public static async Task<bool> InsertIfAbsentAsync(R2psStoreDbContext db, string clientId, string nonce, long expiresMs, long nowMs,
        CancellationToken cancellationToken) =>
        await db.Database.ExecuteSqlRawAsync(InsertIfAbsentSql, [clientId, nonce, expiresMs, nowMs], cancellationToken).ConfigureAwait(false) == 1;

    /// <summary>
    /// The same statement as one command for all the nonces of a group commit, in its transaction: bound and run once per
    /// nonce, compiled once per batch. Through EF Core each nonce paid for building the command again (SQL text, parameter
    /// objects, the relational pipeline) and SQLite for compiling it again: EF Core's raw-SQL command builder was 2.8 % of a
    /// worker's allocated bytes in issue 9's allocation profile.
    /// </summary>
    public sealed class Batch : IDisposable
    {
        // @-named parameters, which SQLite and PostgreSQL both take, in place of EF Core's {0} ….
        private static readonly string Sql = InsertIfAbsentSql
            .Replace("{0}", "@client_id", StringComparison.Ordinal)
            .Replace("{1}", "@nonce", StringComparison.Ordinal)
            .Replace("{2}", "@expires_ms", StringComparison.Ordinal)
            .Replace("{3}", "@now_ms", StringComparison.Ordinal);

        private readonly DbCommand _command;
        private readonly DbParameter _clientId;
        private readonly DbParameter _nonce;
        private readonly DbParameter _expiresMs;
        private readonly DbParameter _nowMs;

        /// <summary>A command on <paramref name="db"/>'s connection, enlisted in <paramref name="transaction"/>, with the context's command timeout.</summary>
        public Batch(R2psStoreDbContext db, IDbContextTransaction transaction)
        {
            ArgumentNullException.ThrowIfNull(db);
            ArgumentNullException.ThrowIfNull(transaction);
            _command = db.Database.GetDbConnection().CreateCommand();
            _command.Transaction = transaction.GetDbTransaction();
            _command.CommandText = Sql;
            // On SQLite the command timeout is also how long a statement waits for the write lock (busy timeout).
            if (db.Database.GetCommandTimeout() is { } seconds)
                _command.CommandTimeout = seconds;
            _clientId = Add("@client_id");
            _nonce = Add("@nonce");
            _expiresMs = Add("@expires_ms");
            _nowMs = Add("@now_ms");
        }

        /// <summary>As <see cref="NonceStatements.InsertIfAbsentAsync"/>: true when recorded, false for a live duplicate.</summary>
        public async Task<bool> InsertIfAbsentAsync(string clientId, string nonce, long expiresMs, long nowMs, CancellationToken cancellationToken)
        {
            _clientId.Value = clientId;
            _nonce.Value = nonce;
            _expiresMs.Value = expiresMs;
            _nowMs.Value = nowMs;
            return await _command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
        }

        public void Dispose() => _command.Dispose();

        private DbParameter Add(string name)
        {
            var parameter = _command.CreateParameter();
            parameter.ParameterName = name;
            _command.Parameters.Add(parameter);
            return parameter;
        }
    }
}
