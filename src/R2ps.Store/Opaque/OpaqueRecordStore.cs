using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace R2ps.Store;

internal sealed class OpaqueRecordStore(
    IDbContextFactory<R2psStoreDbContext> contexts, TimeProvider time, IOptions<StoreOptions> options)
    : StoreComponent(contexts, time, options), IOpaqueRecordStore, IDisposable
{
    // Read twice per login (evaluate, and finalize's check that the PIN did not change): on SQLite without EF Core.
    private readonly SqlitePreparedRead? _getSqlite = SqlitePreparedRead.When(
        options.Value.PreparedReads, options.Value.Provider, options.Value.ConnectionString, options.Value.SqliteBusyTimeout,
        $"SELECT record FROM {R2psStoreDbContext.OpaqueRecordsTable} WHERE client_id = $client_id AND kid = $kid", "$client_id", "$kid");

    public void Dispose() => _getSqlite?.Dispose();

    public async Task<byte[]?> GetAsync(string clientId, string kid, CancellationToken cancellationToken)
    {
        Guard.Identifier(clientId, nameof(clientId));
        Guard.Identifier(kid, nameof(kid));
        if (_getSqlite is { } prepared)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return prepared.ReadSingle([clientId, kid], reader => (byte[])reader.GetValue(0));
        }

        var db = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (db.ConfigureAwait(false))
        {
            return await db.OpaqueRecords.AsNoTracking()
                .Where(o => o.ClientId == clientId && o.Kid == kid)
                .Select(o => o.Record)
                .SingleOrDefaultAsync(cancellationToken)
                .ConfigureAwait(false);
        }
    }

    public async Task PutAsync(string clientId, string kid, ReadOnlyMemory<byte> record, CancellationToken cancellationToken)
    {
        Guard.Identifier(clientId, nameof(clientId));
        Guard.Identifier(kid, nameof(kid));
        Guard.Bytes(record, Options.MaxOpaqueRecordBytes, nameof(record));
        var bytes = record.ToArray();
        var nowMs = NowMs;
        var db = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (db.ConfigureAwait(false))
        {
            await db.Database.ExecuteSqlInterpolatedAsync(
                $"""
                INSERT INTO r2ps_opaque_records (client_id, kid, record, updated_ms)
                VALUES ({clientId}, {kid}, {bytes}, {nowMs})
                ON CONFLICT (client_id, kid) DO UPDATE SET record = excluded.record, updated_ms = excluded.updated_ms
                """,
                cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task<bool> DeleteAsync(string clientId, string kid, CancellationToken cancellationToken)
    {
        Guard.Identifier(clientId, nameof(clientId));
        Guard.Identifier(kid, nameof(kid));
        var db = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (db.ConfigureAwait(false))
        {
            var deleted = await db.Database.ExecuteSqlInterpolatedAsync(
                $"DELETE FROM r2ps_opaque_records WHERE client_id = {clientId} AND kid = {kid}",
                cancellationToken).ConfigureAwait(false);
            return deleted > 0;
        }
    }
}
