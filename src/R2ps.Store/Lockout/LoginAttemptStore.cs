using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using R2ps.Store.Data;

namespace R2ps.Store;

internal sealed class LoginAttemptStore(
    IDbContextFactory<R2psStoreDbContext> contexts, TimeProvider time, IOptions<StoreOptions> options, StoreWriteBatcher batcher)
    : StoreComponent(contexts, time, options), ILoginAttemptStore
{
    // Every login attempt reads its counter back after the charge: compiled once (no LINQ translation, query-cache lookup
    // or funcletizer delegate per call). Per instance, like ClientRegistry's: a compiled query is bound to one model.
    private readonly Func<R2psStoreDbContext, string, string, CancellationToken, Task<LoginAttemptRow>> _readCounter =
        EF.CompileAsyncQuery((R2psStoreDbContext db, string clientId, string kid, CancellationToken _) =>
            db.LoginAttempts.AsNoTracking().Single(a => a.ClientId == clientId && a.Kid == kid));

    public async Task<LoginChargeResult> TryChargeAsync(string clientId, string kid, CancellationToken cancellationToken)
    {
        Guard.Identifier(clientId, nameof(clientId));
        Guard.Identifier(kid, nameof(kid));
        var nowMs = NowMs;
        var lockUntilMs = nowMs + (long)Options.LockoutDuration.TotalMilliseconds;
        var max = Options.MaxConsecutiveLoginFailures;

        // Group-committed with the requests' nonces and audit rows (one write lock, one commit), or a transaction of its own.
        if (Options.BatchWrites)
            return await batcher.RunAsync((db, ct) => ChargeAsync(db, clientId, kid, nowMs, lockUntilMs, max, ct), cancellationToken).ConfigureAwait(false);

        var db = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (db.ConfigureAwait(false))
        {
            var tx = await db.Database.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (tx.ConfigureAwait(false))
            {
                var result = await ChargeAsync(db, clientId, kid, nowMs, lockUntilMs, max, cancellationToken).ConfigureAwait(false);
                await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
                return result;
            }
        }
    }

    public async Task<LoginChargeResult?> TryRecordNonceAndChargeAsync(string clientId, string kid, string nonce, DateTimeOffset nonceExpiresAt,
        CancellationToken cancellationToken)
    {
        Guard.Identifier(clientId, nameof(clientId));
        Guard.Identifier(kid, nameof(kid));
        Guard.Identifier(nonce, nameof(nonce));
        var nowMs = NowMs;
        var nonceExpiresMs = Guard.ToUnixMs(nonceExpiresAt);
        var lockUntilMs = nowMs + (long)Options.LockoutDuration.TotalMilliseconds;
        var max = Options.MaxConsecutiveLoginFailures;

        if (Options.BatchWrites)
        {
            var (recorded, charge) = await batcher.RecordNonceAndRunAsync(clientId, nonce, nonceExpiresMs, nowMs,
                (db, ct) => ChargeAsync(db, clientId, kid, nowMs, lockUntilMs, max, ct), cancellationToken).ConfigureAwait(false);
            return recorded ? charge : null;
        }

        var db = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (db.ConfigureAwait(false))
        {
            var tx = await db.Database.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (tx.ConfigureAwait(false))
            {
                // A live duplicate wrote nothing: the transaction is left to roll back.
                if (!await NonceStatements.InsertIfAbsentAsync(db, clientId, nonce, nonceExpiresMs, nowMs, cancellationToken).ConfigureAwait(false))
                    return null;
                var result = await ChargeAsync(db, clientId, kid, nowMs, lockUntilMs, max, cancellationToken).ConfigureAwait(false);
                await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
                return result;
            }
        }
    }

    /// <summary>The charge's statements, in the caller's transaction.</summary>
    private async Task<LoginChargeResult> ChargeAsync(R2psStoreDbContext db, string clientId, string kid, long nowMs, long lockUntilMs, int max,
        CancellationToken cancellationToken)
    {
        // The check and the increment are one statement: the DO UPDATE runs only while no lockout is in force
        // and the count stays within the limit (PostgreSQL re-evaluates that WHERE on the locked, latest row
        // version; SQLite serialises writers). A refused attempt changes no row, so "rows changed" is the
        // verdict. A lockout that has ended starts a new count at 1.
        var charged = await db.Database.ExecuteSqlInterpolatedAsync(
            $"""
            INSERT INTO r2ps_login_attempts (client_id, kid, failures, locked_until_ms, last_failure_ms)
            VALUES ({clientId}, {kid}, 1, CASE WHEN 1 >= {max} THEN {lockUntilMs} ELSE NULL END, {nowMs})
            ON CONFLICT (client_id, kid) DO UPDATE SET
                failures = CASE WHEN r2ps_login_attempts.locked_until_ms IS NOT NULL THEN 1
                    ELSE r2ps_login_attempts.failures + 1 END,
                locked_until_ms = CASE
                    WHEN (CASE WHEN r2ps_login_attempts.locked_until_ms IS NOT NULL THEN 1
                        ELSE r2ps_login_attempts.failures + 1 END) >= {max} THEN {lockUntilMs}
                    ELSE NULL END,
                last_failure_ms = {nowMs}
            WHERE (r2ps_login_attempts.locked_until_ms IS NULL AND r2ps_login_attempts.failures + 1 <= {max})
               OR (r2ps_login_attempts.locked_until_ms IS NOT NULL AND r2ps_login_attempts.locked_until_ms <= {nowMs})
            """,
            cancellationToken).ConfigureAwait(false);

        if (charged == 0)
        {
            // Refused without a lockout in force: the count already reached a limit that was lowered since.
            // Start a lockout, so the key is not refused forever but for the configured duration.
            await db.Database.ExecuteSqlInterpolatedAsync(
                $"""
                UPDATE r2ps_login_attempts SET locked_until_ms = {lockUntilMs}
                WHERE client_id = {clientId} AND kid = {kid} AND locked_until_ms IS NULL
                """,
                cancellationToken).ConfigureAwait(false);
        }

        var row = await _readCounter(db, clientId, kid, cancellationToken).ConfigureAwait(false);
        return new LoginChargeResult(
            charged > 0,
            row.Failures,
            row.LockedUntilMs is { } locked && locked > nowMs ? Guard.FromUnixMs(locked) : null);
    }

    public async Task ResetAsync(string clientId, string kid, CancellationToken cancellationToken)
    {
        Guard.Identifier(clientId, nameof(clientId));
        Guard.Identifier(kid, nameof(kid));
        if (Options.BatchWrites)
        {
            await batcher.RunAsync((db, ct) => ResetAsync(db, clientId, kid, ct), cancellationToken).ConfigureAwait(false);
            return;
        }

        var db = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (db.ConfigureAwait(false))
            await ResetAsync(db, clientId, kid, cancellationToken).ConfigureAwait(false);
    }

    public async Task ResetWithAuditAsync(string clientId, string kid, AuditEntry entry, CancellationToken cancellationToken)
    {
        Guard.Identifier(clientId, nameof(clientId));
        Guard.Identifier(kid, nameof(kid));
        ArgumentNullException.ThrowIfNull(entry);
        var row = AuditLog.ToRow(entry, Options);
        if (Options.BatchWrites)
        {
            await batcher.AppendAuditAndRunAsync(row, (db, ct) => ResetAsync(db, clientId, kid, ct), cancellationToken).ConfigureAwait(false);
            return;
        }

        var db = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (db.ConfigureAwait(false))
        {
            var tx = await db.Database.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (tx.ConfigureAwait(false))
            {
                await ResetAsync(db, clientId, kid, cancellationToken).ConfigureAwait(false);
                db.Audit.Add(row);
                await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
                await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static Task<int> ResetAsync(R2psStoreDbContext db, string clientId, string kid, CancellationToken cancellationToken) =>
        db.Database.ExecuteSqlInterpolatedAsync(
            $"DELETE FROM r2ps_login_attempts WHERE client_id = {clientId} AND kid = {kid}",
            cancellationToken);

    public async Task<DateTimeOffset?> GetLockedUntilAsync(string clientId, string kid, CancellationToken cancellationToken)
    {
        Guard.Identifier(clientId, nameof(clientId));
        Guard.Identifier(kid, nameof(kid));
        var nowMs = NowMs;
        var db = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (db.ConfigureAwait(false))
        {
            var lockedUntil = await db.LoginAttempts.AsNoTracking()
                .Where(a => a.ClientId == clientId && a.Kid == kid && a.LockedUntilMs > nowMs)
                .Select(a => a.LockedUntilMs)
                .SingleOrDefaultAsync(cancellationToken)
                .ConfigureAwait(false);
            return lockedUntil is { } ms ? Guard.FromUnixMs(ms) : null;
        }
    }
}
