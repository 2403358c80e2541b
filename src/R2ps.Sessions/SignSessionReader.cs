using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using R2ps.Store;

namespace R2ps.Sessions;

/// <summary><see cref="ISignSessionReader"/> over the saga's table.</summary>
public sealed class SignSessionReader(IDbContextFactory<SignSessionDbContext> dbContextFactory, IOptions<SignSessionOptions> options)
    : ISignSessionReader, IDisposable
{
    const string Columns = "\"CorrelationId\", \"CurrentState\", \"PakeSessionId\", \"ClientId\", \"Kid\", \"Context\", \"SealedLoginState\", " +
        "\"SealedSessionKey\", \"Task\", \"StartedAt\", \"LoginExpiresAt\", \"ExpiresAt\"";

    // On SQLite the read of one session by its id without EF Core: a statement compiled once per kept connection
    // (SqlitePreparedRead), over the unique index on PakeSessionId (the whole id, not only the Guid's half of it).
    readonly SqlitePreparedRead? _findByPakeIdSqlite = SqlitePreparedRead.When(
        options.Value.PreparedReads, options.Value.Provider, options.Value.ConnectionString, options.Value.BusyTimeout,
        $"SELECT {Columns} FROM \"{SignSessionStateMap.TableName}\" WHERE \"PakeSessionId\" = $pake_session_id", "$pake_session_id");

    // Every login reads the key's sessions (SignSessionCommands keeps them under MaxSessionsPerKey): likewise.
    readonly SqlitePreparedRead? _findByClientSqlite = SqlitePreparedRead.When(
        options.Value.PreparedReads, options.Value.Provider, options.Value.ConnectionString, options.Value.BusyTimeout,
        $"SELECT {Columns} FROM \"{SignSessionStateMap.TableName}\" WHERE \"ClientId\" = $client_id AND \"Kid\" = $kid", "$client_id", "$kid");

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
        if (_findByPakeIdSqlite is { } prepared)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var row = prepared.ReadSingle([pakeSessionId], ReadRow);
            return row is not null && row.CorrelationId == sessionId ? ToSnapshot(row) : null;
        }

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
        if (_findByClientSqlite is { } prepared)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return ToSnapshots(prepared.ReadAll([clientId, kid], ReadRow));
        }

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

    /// <inheritdoc />
    public void Dispose()
    {
        _findByPakeIdSqlite?.Dispose();
        _findByClientSqlite?.Dispose();
    }

    /// <summary>A row as <see cref="Columns"/> lists it, stored as EF Core stores it (times as epoch milliseconds).</summary>
    static SignSessionState ReadRow(Microsoft.Data.Sqlite.SqliteDataReader reader) => new()
    {
        CorrelationId = reader.GetGuid(0),
        CurrentState = reader.GetString(1),
        PakeSessionId = reader.GetString(2),
        ClientId = reader.GetString(3),
        Kid = reader.GetString(4),
        Context = reader.GetString(5),
        SealedLoginState = reader.IsDBNull(6) ? null : (byte[])reader.GetValue(6),
        SealedSessionKey = reader.IsDBNull(7) ? null : (byte[])reader.GetValue(7),
        Task = reader.IsDBNull(8) ? null : reader.GetString(8),
        StartedAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(9)),
        LoginExpiresAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(10)),
        ExpiresAt = reader.IsDBNull(11) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(11)),
    };

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
