using Microsoft.EntityFrameworkCore;

namespace R2ps.Store;

/// <summary>The nonce insert-if-absent, one statement shared by the plain, batched and ledger paths.</summary>
internal static class NonceStatements
{
    /// <summary>
    /// True when recorded. A row that expired but was not pruned yet is taken over (its update counts as one affected
    /// row); a live row is left alone and nothing is affected: a replay.
    /// </summary>
    public static async Task<bool> InsertIfAbsentAsync(R2psStoreDbContext db, string clientId, string nonce, long expiresMs, long nowMs,
        CancellationToken cancellationToken)
    {
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
