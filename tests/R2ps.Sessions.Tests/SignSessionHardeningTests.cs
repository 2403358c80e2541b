using MassTransit;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using R2ps.Contracts;
using R2ps.Testing;

namespace R2ps.Sessions.Tests;

/// <summary>Regressions of the sessions review: session cap, TTL clamp, re-sent begin, a locked database.</summary>
public abstract class SignSessionHardeningTests(TestDatabaseProvider backend)
{
    static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_login_beyond_the_per_key_cap_ends_the_keys_oldest_session_in_any_context()
    {
        await using var saga = await SagaHarness.StartAsync(backend, options => options.MaxSessionsPerKey = 2);
        var oldest = await saga.BeginActiveAsync(TimeSpan.FromMinutes(5), context: "hsm");
        saga.Clock.Advance(TimeSpan.FromSeconds(1));
        var middle = await saga.BeginAsync(context: "other");
        var otherKey = await saga.BeginAsync(kid: "kid-2");
        saga.Clock.Advance(TimeSpan.FromSeconds(1));

        var newest = await saga.BeginAsync();

        Assert.Null(await saga.Reader.FindAsync(oldest.PakeSessionId, Cancel));
        Assert.NotNull(await saga.Reader.FindAsync(middle.PakeSessionId, Cancel));
        Assert.NotNull(await saga.Reader.FindAsync(newest.PakeSessionId, Cancel));
        Assert.NotNull(await saga.Reader.FindAsync(otherKey.PakeSessionId, Cancel)); // another key's sessions do not count
        await saga.Log.WaitFor<SignSessionEnded>(x => x.SessionId == oldest.SessionId && x.Reason == SignSessionEndReasons.Superseded);
        Assert.Equal(2, (await saga.Reader.FindByClientAsync("client-1", "kid-1", Cancel)).Count);
    }

    [Fact]
    public async Task A_re_sent_begin_of_a_session_under_the_cap_does_not_end_anything()
    {
        await using var saga = await SagaHarness.StartAsync(backend, options => options.MaxSessionsPerKey = 2);
        var first = await saga.BeginAsync();
        var second = await saga.BeginAsync();

        await saga.Commands.BeginLoginAsync(second, Cancel);

        Assert.NotNull(await saga.Reader.FindAsync(first.PakeSessionId, Cancel));
        Assert.NotNull(await saga.Reader.FindAsync(second.PakeSessionId, Cancel));
    }

    [Fact]
    public async Task An_activation_asking_for_more_than_the_maximum_session_duration_is_clamped_to_it()
    {
        await using var saga = await SagaHarness.StartAsync(backend);
        var begin = await saga.BeginAsync();
        var now = saga.Clock.GetUtcNow();

        var activation = await saga.Commands.ActivateAsync(SessionMessages.Activate(begin.SessionId, now + TimeSpan.FromDays(7)), Cancel);

        // PROTOCOL.md 1.5: never longer than the default maximum of 15 min.
        Assert.Equal(new SignSessionActivation(true, now + TimeSpan.FromMinutes(15), null), activation);
        var session = await saga.Reader.FindAsync(begin.PakeSessionId, Cancel);
        Assert.Equal(now + TimeSpan.FromMinutes(15), session!.ExpiresAt);
    }

    [Fact]
    public async Task A_begin_re_sent_after_activation_is_answered_and_leaves_the_session_active()
    {
        await using var saga = await SagaHarness.StartAsync(backend, options =>
        {
            options.RequestTimeout = TimeSpan.FromSeconds(10);
            options.BusyTimeout = TimeSpan.FromMilliseconds(500);
        });
        var begin = await saga.BeginActiveAsync(TimeSpan.FromMinutes(1));

        // Ignored before: the sender waited for its timeout, which throws RequestTimeoutException. Returning at all is the
        // answer; a wall-clock bound would only measure the machine's load.
        await saga.Commands.BeginLoginAsync(begin, Cancel);

        var session = await saga.Reader.FindAsync(begin.PakeSessionId, Cancel);
        Assert.Equal(SignSessionPhase.Active, session!.Phase);
        Assert.Equal(SessionMessages.SealedSessionKey, session.SealedSessionKey);
    }

    [Fact]
    public async Task A_write_that_finds_the_database_locked_past_the_busy_timeout_is_retried_not_faulted()
    {
        await using var saga = await SagaHarness.StartAsync(backend, options => options.BusyTimeout = TimeSpan.FromMilliseconds(100));
        await saga.BeginAsync(); // schema and models ready
        // Another process holds a lock the saga's write needs, longer than the busy timeout. On SQLite that is the
        // file's write lock, and each attempt also waits out the 1 s command timeout (Microsoft.Data.Sqlite retries a busy
        // statement until then); on PostgreSQL the table's lock, and each attempt gives up after lock_timeout (100 ms),
        // so a shorter hold still outlasts several attempts.
        var held = backend.IsSqlite ? TimeSpan.FromMilliseconds(1600) : TimeSpan.FromMilliseconds(600);
        await using var other = saga.Database.OpenConnection();
        await other.OpenAsync(Cancel);
        await using (var command = other.CreateCommand())
        {
            command.CommandText = backend.IsSqlite
                ? "BEGIN IMMEDIATE;"
                : "BEGIN; LOCK TABLE \"SignSessions\" IN EXCLUSIVE MODE;";
            await command.ExecuteNonQueryAsync(Cancel);
        }

        var begin = SessionMessages.Begin(saga.Clock.GetUtcNow());
        var pending = saga.Commands.BeginLoginAsync(begin, Cancel);
        await Task.Delay(held, Cancel);
        Assert.False(pending.IsCompleted); // it did wait for the lock
        await using (var command = other.CreateCommand())
        {
            command.CommandText = "COMMIT;";
            await command.ExecuteNonQueryAsync(Cancel);
        }

        await pending; // a fault would throw RequestFaultException here
        Assert.NotNull(await saga.Reader.FindAsync(begin.PakeSessionId, Cancel));
    }
}

/// <summary>Which database errors the saga's retry policy re-runs a message for.</summary>
public sealed class TransientDatabaseErrorTests
{
    [Theory]
    [InlineData(5)] // SQLITE_BUSY
    [InlineData(6)] // SQLITE_LOCKED
    [InlineData(261)] // SQLITE_BUSY_RECOVERY (extended code of 5)
    public void Sqlite_busy_and_locked_errors_count_as_retryable_bare_or_wrapped(int code)
    {
        var sqlite = new SqliteException("database is locked", code);

        Assert.True(R2ps.Store.RelationalDatabase.IsTransient(sqlite));
        Assert.True(R2ps.Store.RelationalDatabase.IsTransient(new DbUpdateException("save failed", sqlite)));
    }

    [Fact]
    public void Other_database_errors_are_not_retried()
    {
        // SQLITE_CONSTRAINT (19): a real fault.
        Assert.False(R2ps.Store.RelationalDatabase.IsTransient(new DbUpdateException("save failed", new SqliteException("constraint", 19))));
        Assert.False(R2ps.Store.RelationalDatabase.IsTransient(new InvalidOperationException()));
    }

    [Theory]
    [InlineData("40001")] // serialization_failure
    [InlineData("40P01")] // deadlock_detected
    [InlineData("55P03")] // lock_not_available (lock_timeout)
    public void Postgres_lost_lock_races_count_as_retryable_bare_or_wrapped(string sqlState)
    {
        var postgres = new Npgsql.PostgresException("lost a race", "ERROR", "ERROR", sqlState);

        Assert.True(R2ps.Store.RelationalDatabase.IsTransient(postgres));
        Assert.True(R2ps.Store.RelationalDatabase.IsTransient(new DbUpdateException("save failed", postgres)));
    }

    [Fact]
    public void A_postgres_unique_violation_is_not_retried_but_recognised_as_one()
    {
        var duplicate = new Npgsql.PostgresException("duplicate key", "ERROR", "ERROR", "23505");

        Assert.False(R2ps.Store.RelationalDatabase.IsTransient(new DbUpdateException("save failed", duplicate)));
        Assert.True(R2ps.Store.RelationalDatabase.IsUniqueViolation(new DbUpdateException("save failed", duplicate)));
    }
}

public sealed class SignSessionHardeningTestsOnSqlite() : SignSessionHardeningTests(TestDatabaseProvider.Sqlite);

public sealed class SignSessionHardeningTestsOnPostgres(PostgreSqlServerFixture server) : SignSessionHardeningTests(TestDatabaseProvider.Postgres(server));
