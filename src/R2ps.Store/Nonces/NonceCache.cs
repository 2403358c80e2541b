using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace R2ps.Store;

internal sealed class NonceCache(
    IDbContextFactory<R2psStoreDbContext> contexts, TimeProvider time, IOptions<StoreOptions> options, StoreWriteBatcher batcher)
    : StoreComponent(contexts, time, options), INonceCache
{
    public async Task<bool> TryRecordAsync(string clientId, string nonce, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        Guard.Identifier(clientId, nameof(clientId));
        Guard.Identifier(nonce, nameof(nonce));
        var nowMs = NowMs;
        var expiresMs = Guard.ToUnixMs(expiresAt);
        if (Options.BatchWrites)
            return await batcher.RecordNonceAsync(clientId, nonce, expiresMs, nowMs, cancellationToken).ConfigureAwait(false);
        var db = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (db.ConfigureAwait(false))
        {
            // Insert-if-absent in one statement. A row that expired but was not pruned yet is taken over (its update
            // counts as one affected row); a live row is left alone and nothing is affected: a replay.
            var affected = await db.Database.ExecuteSqlInterpolatedAsync(
                $"""
                INSERT INTO r2ps_nonces (client_id, nonce, expires_ms) VALUES ({clientId}, {nonce}, {expiresMs})
                ON CONFLICT (client_id, nonce) DO UPDATE SET expires_ms = excluded.expires_ms
                WHERE r2ps_nonces.expires_ms <= {nowMs}
                """,
                cancellationToken).ConfigureAwait(false);
            return affected == 1;
        }
    }

    public async Task<int> PruneAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var nowMs = Guard.ToUnixMs(now);
        var db = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (db.ConfigureAwait(false))
        {
            return await db.Database.ExecuteSqlInterpolatedAsync(
                $"DELETE FROM r2ps_nonces WHERE expires_ms <= {nowMs}",
                cancellationToken).ConfigureAwait(false);
        }
    }
}
