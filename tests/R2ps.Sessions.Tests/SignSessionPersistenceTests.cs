using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using R2ps.Contracts;
using R2ps.Testing;

namespace R2ps.Sessions.Tests;

/// <summary>
/// The saga's own EF Core repository on a real database (SQLite file or PostgreSQL): durability across restarts, optimistic concurrency, the
/// expiry sweeper (ARCHITECTURE.md, Expiry: no delayed-message plugin, survives a restart of every process), and
/// several processes on one database.
/// </summary>
public abstract class SignSessionPersistenceTests(TestDatabaseProvider backend)
{
    static readonly TimeSpan Ttl = TimeSpan.FromSeconds(2);
    // How long after its due time the sweeper may take to remove a row. Not a protocol bound (PROTOCOL.md promises refusal
    // at use after the TTL, which every worker checks); the sweep interval is 250 ms, the rest is room for a loaded machine.
    static readonly TimeSpan Slack = TimeSpan.FromSeconds(10);

    static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Sessions_survive_a_restart_on_a_new_service_provider()
    {
        using var database = await TempDatabase.CreateAsync(backend);
        BeginSignSessionLogin active, pending;
        DateTimeOffset expiresAt;
        await using (var first = await SessionHost.StartAsync(database, sweeper: false))
        {
            var now = DateTimeOffset.UtcNow;
            active = SessionMessages.Begin(now);
            pending = SessionMessages.Begin(now, context: "other");
            await first.Commands.BeginLoginAsync(active, Cancel);
            await first.Commands.BeginLoginAsync(pending, Cancel);
            expiresAt = DateTimeOffset.FromUnixTimeMilliseconds((now + TimeSpan.FromMinutes(5)).ToUnixTimeMilliseconds());
            await first.Commands.ActivateAsync(SessionMessages.Activate(active.SessionId, expiresAt), Cancel);
        }

        await using var second = await SessionHost.StartAsync(database, sweeper: false);

        var activeAfter = await second.Reader.FindAsync(active.PakeSessionId, Cancel);
        Assert.NotNull(activeAfter);
        Assert.Equal(SignSessionPhase.Active, activeAfter.Phase);
        Assert.Equal(expiresAt, activeAfter.ExpiresAt);
        Assert.Equal(SessionMessages.SealedSessionKey, activeAfter.SealedSessionKey);
        var pendingAfter = await second.Reader.FindAsync(pending.PakeSessionId, Cancel);
        Assert.NotNull(pendingAfter);
        Assert.Equal(SignSessionPhase.PendingLogin, pendingAfter.Phase);
        Assert.Equal(SessionMessages.SealedLoginState, pendingAfter.SealedLoginState);

        // …and the new process's saga carries on with them.
        await second.Commands.CloseAsync(active.SessionId, SignSessionEndReasons.Closed, Cancel);
        Assert.Null(await second.Reader.FindAsync(active.PakeSessionId, Cancel));
    }

    [Fact]
    public async Task Saving_over_a_row_that_changed_since_it_was_loaded_is_a_concurrency_conflict()
    {
        using var database = await TempDatabase.CreateAsync(backend);
        await using var provider = Provider(database);
        var factory = provider.GetRequiredService<IDbContextFactory<SignSessionDbContext>>();
        var id = await InsertRow(factory);

        await using var first = await factory.CreateDbContextAsync(Cancel);
        await using var second = await factory.CreateDbContextAsync(Cancel);
        var mine = await first.SignSessions.SingleAsync(x => x.CorrelationId == id, Cancel);
        var theirs = await second.SignSessions.SingleAsync(x => x.CorrelationId == id, Cancel);

        theirs.CurrentState = "Active";
        theirs.Version++;
        await second.SaveChangesAsync(Cancel);

        mine.Task = "sign";
        mine.Version++;
        await Assert.ThrowsAsync<DbUpdateConcurrencyException>(() => first.SaveChangesAsync(Cancel));
    }

    [Fact]
    public async Task Deleting_a_row_that_changed_since_it_was_loaded_is_a_concurrency_conflict()
    {
        using var database = await TempDatabase.CreateAsync(backend);
        await using var provider = Provider(database);
        var factory = provider.GetRequiredService<IDbContextFactory<SignSessionDbContext>>();
        var id = await InsertRow(factory);

        await using var first = await factory.CreateDbContextAsync(Cancel);
        await using var second = await factory.CreateDbContextAsync(Cancel);
        var mine = await first.SignSessions.SingleAsync(x => x.CorrelationId == id, Cancel);
        var theirs = await second.SignSessions.SingleAsync(x => x.CorrelationId == id, Cancel);

        theirs.Version++;
        await second.SaveChangesAsync(Cancel);

        first.SignSessions.Remove(mine);
        await Assert.ThrowsAsync<DbUpdateConcurrencyException>(() => first.SaveChangesAsync(Cancel));
    }

    [Fact]
    public async Task Schema_creation_tolerates_an_existing_database_and_existing_table()
    {
        using var database = await TempDatabase.CreateAsync(backend);
        // Another context (the store) created the file first, with a table of its own.
        await using (var connection = database.OpenConnection())
        {
            await connection.OpenAsync(Cancel);
            await using var command = connection.CreateCommand();
            command.CommandText = "CREATE TABLE Clients (Id TEXT PRIMARY KEY);";
            await command.ExecuteNonQueryAsync(Cancel);
        }

        await using (var provider = Provider(database))
            await InsertRow(provider.GetRequiredService<IDbContextFactory<SignSessionDbContext>>());
        await using (var provider = Provider(database))
        {
            var factory = provider.GetRequiredService<IDbContextFactory<SignSessionDbContext>>();
            await using var db = await factory.CreateDbContextAsync(Cancel);
            Assert.Equal(1, await db.SignSessions.CountAsync(Cancel));
        }
    }

    [Fact]
    public async Task The_sweeper_removes_sessions_with_a_2_s_ttl_after_their_due_time()
    {
        using var database = await TempDatabase.CreateAsync(backend);
        await using var host = await SessionHost.StartAsync(database);

        var sessions = await CreateExpiringSessions(host, count: 6);

        await AssertAllGoneBy(host.Reader, sessions);
        Assert.Equal(sessions.Count, host.Log.All<SignSessionEnded>().Count);
    }

    [Fact]
    public async Task A_host_started_while_sessions_are_live_expires_them_after_the_first_one_stopped()
    {
        using var database = await TempDatabase.CreateAsync(backend);
        List<(BeginSignSessionLogin Session, DateTimeOffset DueAt)> sessions;
        await using (var first = await SessionHost.StartAsync(database))
            sessions = await CreateExpiringSessions(first, count: 4);

        await Task.Delay(500, Cancel);
        await using var second = await SessionHost.StartAsync(database);

        await AssertAllGoneBy(second.Reader, sessions);
    }

    [Fact]
    public async Task A_host_started_after_sessions_expired_while_none_ran_removes_them_at_once()
    {
        using var database = await TempDatabase.CreateAsync(backend);
        List<(BeginSignSessionLogin Session, DateTimeOffset DueAt)> sessions;
        await using (var first = await SessionHost.StartAsync(database))
            sessions = await CreateExpiringSessions(first, count: 4);

        await Task.Delay(Ttl + TimeSpan.FromMilliseconds(500), Cancel); // every process is down while the TTL passes
        var started = DateTimeOffset.UtcNow;
        await using var second = await SessionHost.StartAsync(database);

        await AssertAllGoneBy(second.Reader, sessions.Select(s => (s.Session, started)).ToList());
    }

    [Fact]
    public async Task Two_hosts_on_one_file_end_each_expiring_session_exactly_once()
    {
        using var database = await TempDatabase.CreateAsync(backend);
        await using var first = await SessionHost.StartAsync(database);
        await using var second = await SessionHost.StartAsync(database);

        var sessions = (await CreateExpiringSessions(first, count: 5)).Concat(await CreateExpiringSessions(second, count: 5)).ToList();

        await AssertAllGoneBy(first.Reader, sessions);
        await Task.Delay(TimeSpan.FromMilliseconds(750), Cancel); // let any duplicate expiry run its course
        var ends = first.Log.All<SignSessionEnded>().Concat(second.Log.All<SignSessionEnded>()).ToList();
        Assert.Equal(sessions.Select(s => s.Session.SessionId).Order(), ends.Select(e => e.SessionId).Order());
    }

    [Fact]
    public async Task Concurrent_closes_from_two_hosts_both_succeed_and_end_the_session_once()
    {
        using var database = await TempDatabase.CreateAsync(backend);
        await using var first = await SessionHost.StartAsync(database, sweeper: false);
        await using var second = await SessionHost.StartAsync(database, sweeper: false);
        var sessions = new List<BeginSignSessionLogin>();
        for (var i = 0; i < 5; i++)
        {
            var begin = SessionMessages.Begin(DateTimeOffset.UtcNow);
            await first.Commands.BeginLoginAsync(begin, Cancel);
            await first.Commands.ActivateAsync(SessionMessages.Activate(begin.SessionId, DateTimeOffset.UtcNow.AddMinutes(5)), Cancel);
            sessions.Add(begin);
        }

        await Task.WhenAll(sessions.SelectMany(s => new[]
        {
            first.Commands.CloseAsync(s.SessionId, SignSessionEndReasons.Closed, Cancel),
            second.Commands.CloseAsync(s.SessionId, SignSessionEndReasons.Closed, Cancel),
        }));

        foreach (var session in sessions)
            Assert.Null(await first.Reader.FindAsync(session.SessionId, Cancel));
        await Task.Delay(TimeSpan.FromMilliseconds(500), Cancel);
        var ends = first.Log.All<SignSessionEnded>().Concat(second.Log.All<SignSessionEnded>()).ToList();
        Assert.Equal(sessions.Select(s => s.SessionId).Order(), ends.Select(e => e.SessionId).Order());
    }

    [Fact]
    public async Task Simultaneous_begins_of_one_session_on_two_hosts_both_succeed_with_one_row()
    {
        using var database = await TempDatabase.CreateAsync(backend);
        await using var first = await SessionHost.StartAsync(database, sweeper: false);
        await using var second = await SessionHost.StartAsync(database, sweeper: false);
        var begins = Enumerable.Range(0, 5).Select(_ => SessionMessages.Begin(DateTimeOffset.UtcNow)).ToList();

        // A redelivered begin racing its original: the loser's insert conflicts, is retried, and finds the winner's row.
        await Task.WhenAll(begins.SelectMany(b => new[]
        {
            first.Commands.BeginLoginAsync(b, Cancel),
            second.Commands.BeginLoginAsync(b, Cancel),
        }));

        var factory = first.Services.GetRequiredService<IDbContextFactory<SignSessionDbContext>>();
        await using var db = await factory.CreateDbContextAsync(Cancel);
        Assert.Equal(begins.Count, await db.SignSessions.CountAsync(Cancel));
    }

    [Fact]
    public async Task The_saga_load_is_compiled_once_per_model_and_reads_the_row_tracked()
    {
        using var database = await TempDatabase.CreateAsync(backend);
        await using var provider = Provider(database);
        var factory = provider.GetRequiredService<IDbContextFactory<SignSessionDbContext>>();
        var id = await InsertRow(factory);

        await using var first = await factory.CreateDbContextAsync(Cancel);
        await using var second = await factory.CreateDbContextAsync(Cancel);
        var load = R2ps.Sessions.Persistence.SagaLoadQuery<SignSessionState>.For(first);
        // MassTransit makes a repository context per message: the compiled query must outlive it, or it compiles every time.
        Assert.Same(load, R2ps.Sessions.Persistence.SagaLoadQuery<SignSessionState>.For(second));

        var row = await load(second, id, Cancel);
        Assert.NotNull(row);
        Assert.Equal(id, row.CorrelationId);
        Assert.Equal(EntityState.Unchanged, second.Entry(row).State); // tracked: the saga's save writes what the state machine changed
        Assert.Null(await load(first, Guid.NewGuid(), Cancel));
    }

    static ServiceProvider Provider(TempDatabase database)
    {
        var services = new ServiceCollection();
        services.AddSignSessionServices(database.Apply);
        return services.BuildServiceProvider(validateScopes: true);
    }

    static async Task<Guid> InsertRow(IDbContextFactory<SignSessionDbContext> factory)
    {
        var begin = SessionMessages.Begin(DateTimeOffset.UtcNow);
        await using var db = await factory.CreateDbContextAsync(Cancel);
        db.SignSessions.Add(new SignSessionState
        {
            CorrelationId = begin.SessionId,
            CurrentState = "PendingLogin",
            Version = 1,
            PakeSessionId = begin.PakeSessionId,
            ClientId = begin.ClientId,
            Kid = begin.Kid,
            Context = begin.Context,
            SealedLoginState = begin.SealedLoginState,
            StartedAt = begin.StartedAt,
            LoginExpiresAt = begin.LoginExpiresAt,
            DueAt = begin.LoginExpiresAt,
        });
        await db.SaveChangesAsync(Cancel);
        return begin.SessionId;
    }

    /// <summary>Half active sessions with a 2 s TTL, half pending logins with a 2 s login window.</summary>
    static async Task<List<(BeginSignSessionLogin Session, DateTimeOffset DueAt)>> CreateExpiringSessions(SessionHost host, int count)
    {
        var sessions = new List<(BeginSignSessionLogin, DateTimeOffset)>();
        for (var i = 0; i < count; i++)
        {
            var now = DateTimeOffset.UtcNow;
            var begin = SessionMessages.Begin(now, loginWindow: Ttl);
            await host.Commands.BeginLoginAsync(begin, Cancel);
            if (i % 2 == 0)
            {
                var expiresAt = DateTimeOffset.UtcNow + Ttl;
                var activation = await host.Commands.ActivateAsync(SessionMessages.Activate(begin.SessionId, expiresAt), Cancel);
                Assert.True(activation.Activated);
                sessions.Add((begin, expiresAt));
            }
            else
            {
                sessions.Add((begin, begin.LoginExpiresAt));
            }
        }

        return sessions;
    }

    /// <summary>Every session's row is gone no later than its due time plus <see cref="Slack"/>.</summary>
    static async Task AssertAllGoneBy(ISignSessionReader reader, IReadOnlyList<(BeginSignSessionLogin Session, DateTimeOffset DueAt)> sessions)
    {
        var remaining = sessions.ToList();
        var deadline = sessions.Max(s => s.DueAt) + Slack;
        while (remaining.Count > 0)
        {
            foreach (var entry in remaining.ToList())
            {
                var gone = await reader.FindAsync(entry.Session.SessionId, Cancel) is null;
                // Taken after the read: an upper bound of when the row went.
                var now = DateTimeOffset.UtcNow;
                if (gone)
                {
                    Assert.True(now <= entry.DueAt + Slack,
                        $"Session removed by {(now - entry.DueAt).TotalMilliseconds:F0} ms after its due time, not within {Slack.TotalMilliseconds} ms.");
                    remaining.Remove(entry);
                }
            }

            if (remaining.Count > 0 && DateTimeOffset.UtcNow > deadline)
                Assert.Fail($"{remaining.Count} session(s) still stored more than {Slack.TotalSeconds} s after their due time.");
            await Task.Delay(50, Cancel);
        }
    }
}

public sealed class SignSessionPersistenceTestsOnSqlite() : SignSessionPersistenceTests(TestDatabaseProvider.Sqlite);

public sealed class SignSessionPersistenceTestsOnPostgres(PostgreSqlServerFixture server) : SignSessionPersistenceTests(TestDatabaseProvider.Postgres(server));
