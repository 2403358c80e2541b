using Microsoft.EntityFrameworkCore;

namespace R2ps.Sessions;

/// <summary><see cref="ISignSessionReader"/> over the saga's table.</summary>
public sealed class SignSessionReader(IDbContextFactory<SignSessionDbContext> dbContextFactory) : ISignSessionReader
{
    // Every user-mode request reads its session: compiled once, so the read skips EF Core's LINQ translation and
    // query-cache lookup. Same SQL as the LINQ form. Per instance, not static: a compiled query is bound to one model,
    // and one process may read sessions on both providers (the tests).
    readonly Func<SignSessionDbContext, Guid, CancellationToken, Task<SignSessionState?>> _findById =
        EF.CompileAsyncQuery((SignSessionDbContext db, Guid sessionId, CancellationToken _) =>
            db.SignSessions.AsNoTracking().SingleOrDefault(x => x.CorrelationId == sessionId));

    /// <inheritdoc />
    public async Task<SignSessionSnapshot?> FindAsync(string pakeSessionId, CancellationToken cancellationToken = default)
    {
        var sessionId = SignSessionIds.ToSessionId(pakeSessionId);
        var snapshot = await FindAsync(sessionId, cancellationToken).ConfigureAwait(false);
        // The Guid holds only half of the id: the full 32 bytes must match too.
        return snapshot is not null && string.Equals(snapshot.PakeSessionId, pakeSessionId, StringComparison.Ordinal) ? snapshot : null;
    }

    /// <inheritdoc />
    public async Task<SignSessionSnapshot?> FindAsync(Guid sessionId, CancellationToken cancellationToken = default)
    {
        var db = await dbContextFactory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        await using (db.ConfigureAwait(false))
        {
            var row = await _findById(db, sessionId, cancellationToken).ConfigureAwait(false);
            return row is null ? null : ToSnapshot(row);
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<SignSessionSnapshot>> FindByBindingAsync(string clientId, string kid, string context,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(clientId);
        ArgumentNullException.ThrowIfNull(kid);
        ArgumentNullException.ThrowIfNull(context);
        var db = await dbContextFactory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        await using (db.ConfigureAwait(false))
        {
            var rows = await db.SignSessions.AsNoTracking()
                .Where(x => x.ClientId == clientId && x.Kid == kid && x.Context == context)
                .ToListAsync(cancellationToken)
                .ConfigureAwait(false);
            return ToSnapshots(rows);
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<SignSessionSnapshot>> FindByClientAsync(string clientId, string kid,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(clientId);
        ArgumentNullException.ThrowIfNull(kid);
        var db = await dbContextFactory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        await using (db.ConfigureAwait(false))
        {
            var rows = await db.SignSessions.AsNoTracking()
                .Where(x => x.ClientId == clientId && x.Kid == kid)
                .ToListAsync(cancellationToken)
                .ConfigureAwait(false);
            return ToSnapshots(rows);
        }
    }

    static List<SignSessionSnapshot> ToSnapshots(List<SignSessionState> rows)
    {
        var snapshots = new List<SignSessionSnapshot>(rows.Count);
        foreach (var row in rows)
        {
            if (ToSnapshot(row) is { } snapshot)
                snapshots.Add(snapshot);
        }

        return snapshots;
    }

    static SignSessionSnapshot? ToSnapshot(SignSessionState row)
    {
        SignSessionPhase phase;
        if (row.CurrentState == nameof(SignSessionStateMachine.PendingLogin))
            phase = SignSessionPhase.PendingLogin;
        else if (row.CurrentState == nameof(SignSessionStateMachine.Active))
            phase = SignSessionPhase.Active;
        else
            return null; // any other state is not a live session

        return new SignSessionSnapshot(row.CorrelationId, row.PakeSessionId, phase, row.ClientId, row.Kid, row.Context,
            row.SealedLoginState, row.SealedSessionKey, row.Task, row.StartedAt, row.LoginExpiresAt, row.ExpiresAt);
    }
}
