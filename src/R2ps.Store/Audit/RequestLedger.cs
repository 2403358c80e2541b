using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace R2ps.Store;

internal sealed class RequestLedger(
    IDbContextFactory<R2psStoreDbContext> contexts, TimeProvider time, IOptions<StoreOptions> options, StoreWriteBatcher batcher)
    : StoreComponent(contexts, time, options), IRequestLedger
{
    public async Task<bool> RecordNonceAndAuditAsync(string clientId, string nonce, DateTimeOffset expiresAt, AuditEntry whenNew,
        AuditEntry whenReplayed, CancellationToken cancellationToken)
    {
        Guard.Identifier(clientId, nameof(clientId));
        Guard.Identifier(nonce, nameof(nonce));
        ArgumentNullException.ThrowIfNull(whenNew);
        ArgumentNullException.ThrowIfNull(whenReplayed);
        var nowMs = NowMs;
        var expiresMs = Guard.ToUnixMs(expiresAt);
        var newRow = AuditLog.ToRow(whenNew, Options);
        var replayedRow = AuditLog.ToRow(whenReplayed, Options);
        if (Options.BatchWrites)
            return await batcher.RecordNonceAndAuditAsync(clientId, nonce, expiresMs, nowMs, newRow, replayedRow, cancellationToken).ConfigureAwait(false);

        var db = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (db.ConfigureAwait(false))
        {
            var tx = await db.Database.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (tx.ConfigureAwait(false))
            {
                var recorded = await NonceStatements.InsertIfAbsentAsync(db, clientId, nonce, expiresMs, nowMs, cancellationToken).ConfigureAwait(false);
                db.Audit.Add(recorded ? newRow : replayedRow);
                await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
                await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
                return recorded;
            }
        }
    }
}
