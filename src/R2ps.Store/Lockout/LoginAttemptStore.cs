using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace R2ps.Store;

internal sealed class LoginAttemptStore(
    IDbContextFactory<R2psStoreDbContext> contexts, TimeProvider time, IOptions<StoreOptions> options)
    : StoreComponent(contexts, time, options), ILoginAttemptStore
{
    public async Task<LoginFailureResult> RecordFailureAsync(string clientId, string kid, CancellationToken cancellationToken)
    {
        Guard.Identifier(clientId, nameof(clientId));
        Guard.Identifier(kid, nameof(kid));
        var nowMs = NowMs;
        var lockUntilMs = nowMs + (long)Options.LockoutDuration.TotalMilliseconds;
        var max = Options.MaxConsecutiveLoginFailures;

        var db = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (db.ConfigureAwait(false))
        {
            // The transaction holds the row's write lock from the upsert to the read-back, so the count read is the
            // one this call wrote (SQLite: BEGIN IMMEDIATE; PostgreSQL: the row lock of the upsert).
            var tx = await db.Database.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (tx.ConfigureAwait(false))
            {
                // SET expressions see the row as it was before this statement, on SQLite and PostgreSQL alike.
                // A lockout in force is kept as it is (not extended); after it ended, counting starts again at 1.
                await db.Database.ExecuteSqlInterpolatedAsync(
                    $"""
                    INSERT INTO r2ps_login_attempts (client_id, kid, failures, locked_until_ms, last_failure_ms)
                    VALUES ({clientId}, {kid}, 1, CASE WHEN 1 >= {max} THEN {lockUntilMs} ELSE NULL END, {nowMs})
                    ON CONFLICT (client_id, kid) DO UPDATE SET
                        failures = CASE
                            WHEN r2ps_login_attempts.locked_until_ms IS NOT NULL AND r2ps_login_attempts.locked_until_ms <= {nowMs} THEN 1
                            ELSE r2ps_login_attempts.failures + 1 END,
                        locked_until_ms = CASE
                            WHEN r2ps_login_attempts.locked_until_ms IS NOT NULL AND r2ps_login_attempts.locked_until_ms > {nowMs}
                                THEN r2ps_login_attempts.locked_until_ms
                            WHEN r2ps_login_attempts.locked_until_ms IS NULL AND r2ps_login_attempts.failures + 1 >= {max}
                                THEN {lockUntilMs}
                            WHEN r2ps_login_attempts.locked_until_ms IS NOT NULL AND 1 >= {max}
                                THEN {lockUntilMs}
                            ELSE NULL END,
                        last_failure_ms = {nowMs}
                    """,
                    cancellationToken).ConfigureAwait(false);

                var row = await db.LoginAttempts.AsNoTracking()
                    .SingleAsync(a => a.ClientId == clientId && a.Kid == kid, cancellationToken)
                    .ConfigureAwait(false);
                await tx.CommitAsync(cancellationToken).ConfigureAwait(false);

                return new LoginFailureResult(
                    row.Failures,
                    row.LockedUntilMs is { } locked && locked > nowMs ? Guard.FromUnixMs(locked) : null);
            }
        }
    }

    public async Task ResetAsync(string clientId, string kid, CancellationToken cancellationToken)
    {
        Guard.Identifier(clientId, nameof(clientId));
        Guard.Identifier(kid, nameof(kid));
        var db = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (db.ConfigureAwait(false))
        {
            await db.Database.ExecuteSqlInterpolatedAsync(
                $"DELETE FROM r2ps_login_attempts WHERE client_id = {clientId} AND kid = {kid}",
                cancellationToken).ConfigureAwait(false);
        }
    }

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
