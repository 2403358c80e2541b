using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace R2ps.Store;

/// <summary>What one pruning pass removed.</summary>
/// <param name="Nonces">Expired nonces.</param>
/// <param name="AuditEntries">Audit entries older than <see cref="StoreOptions.AuditRetention"/>.</param>
public sealed record PruneResult(int Nonces, int AuditEntries);

/// <summary>
/// Retention of the tables that grow with traffic (issue 10 item 2): expired nonces, and audit entries older than
/// <see cref="StoreOptions.AuditRetention"/>. Deleted in batches of <see cref="StoreOptions.PruneBatchSize"/>, each its own
/// short statement, so a large backlog never holds a long lock against the workers' inserts (SQLite has one writer).
/// The statements are plain SQL that SQLite and PostgreSQL both run.
/// </summary>
internal sealed class StoreRetention(
    IDbContextFactory<R2psStoreDbContext> contexts, TimeProvider time, IOptions<StoreOptions> options)
    : StoreComponent(contexts, time, options)
{
    /// <summary>Prunes until nothing is due, batch by batch; returns how many rows went.</summary>
    public async Task<PruneResult> PruneAsync(CancellationToken cancellationToken)
    {
        var now = Time.GetUtcNow();
        var nowMs = Guard.ToUnixMs(now);
        var auditCutoffMs = Guard.ToUnixMs(now - Options.AuditRetention);
        var batch = Options.PruneBatchSize;

        var nonces = 0;
        int removed;
        do
        {
            removed = await PruneNonceBatchAsync(nowMs, batch, cancellationToken).ConfigureAwait(false);
            nonces += removed;
        }
        while (removed == batch);

        var audit = 0;
        do
        {
            removed = await PruneAuditBatchAsync(auditCutoffMs, batch, cancellationToken).ConfigureAwait(false);
            audit += removed;
        }
        while (removed == batch);

        return new PruneResult(nonces, audit);
    }

    /// <summary>Deletes at most <paramref name="batch"/> nonces that expired at or before <paramref name="nowMs"/> (the expiry index finds them).</summary>
    internal async Task<int> PruneNonceBatchAsync(long nowMs, int batch, CancellationToken cancellationToken)
    {
        var db = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (db.ConfigureAwait(false))
        {
            return await db.Database.ExecuteSqlInterpolatedAsync(
                $"""
                DELETE FROM r2ps_nonces WHERE (client_id, nonce) IN
                  (SELECT client_id, nonce FROM r2ps_nonces WHERE expires_ms <= {nowMs} LIMIT {batch})
                """,
                cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Deletes the audit entries older than <paramref name="cutoffMs"/> among the oldest <paramref name="batch"/> by id.
    /// Entries are appended in time order (up to the workers' clock skew), so the oldest ids are the oldest entries:
    /// reading the head of the primary key needs no index on time and never scans the young part of the table.
    /// </summary>
    internal async Task<int> PruneAuditBatchAsync(long cutoffMs, int batch, CancellationToken cancellationToken)
    {
        var db = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (db.ConfigureAwait(false))
        {
            return await db.Database.ExecuteSqlInterpolatedAsync(
                $"""
                DELETE FROM r2ps_audit WHERE id IN
                  (SELECT head.id FROM (SELECT id, time_ms FROM r2ps_audit ORDER BY id LIMIT {batch}) AS head WHERE head.time_ms < {cutoffMs})
                """,
                cancellationToken).ConfigureAwait(false);
        }
    }
}
