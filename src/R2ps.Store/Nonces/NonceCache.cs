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
            return await NonceStatements.InsertIfAbsentAsync(db, clientId, nonce, expiresMs, nowMs, cancellationToken).ConfigureAwait(false);
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
