using MassTransit;
using MassTransit.Testing;
using R2ps.Contracts;
using R2ps.Testing;

namespace R2ps.Sessions.Tests;

/// <summary>The saga's behaviour (ARCHITECTURE.md flows Login, Use, Close, Expiry; PROTOCOL.md 1.5) on the test harness.</summary>
public abstract class SignSessionStateMachineTests(TestDatabaseProvider backend)
{
    static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Begin_stores_a_pending_login_and_replies_once_it_is_persisted()
    {
        await using var saga = await SagaHarness.StartAsync(backend);

        var begin = await saga.BeginAsync();

        var session = await saga.Reader.FindAsync(begin.PakeSessionId, Cancel);
        Assert.NotNull(session);
        Assert.Equal(SignSessionPhase.PendingLogin, session.Phase);
        Assert.Equal(begin.SessionId, session.SessionId);
        Assert.True(session.IsBoundTo("client-1", "kid-1", "hsm"));
        Assert.Equal(SessionMessages.SealedLoginState, session.SealedLoginState);
        Assert.Null(session.SealedSessionKey);
        Assert.Equal(begin.StartedAt, session.StartedAt);
        Assert.Equal(begin.LoginExpiresAt, session.LoginExpiresAt);
        Assert.True(session.IsLoginPendingAt(saga.Clock.GetUtcNow()));
        Assert.False(session.IsActiveAt(saga.Clock.GetUtcNow()));
    }

    [Fact]
    public async Task Activate_inside_the_login_window_makes_the_session_active()
    {
        await using var saga = await SagaHarness.StartAsync(backend);
        var begin = await saga.BeginAsync();
        saga.Clock.Advance(TimeSpan.FromSeconds(3));
        var expiresAt = saga.Clock.GetUtcNow() + TimeSpan.FromSeconds(30);

        var activation = await saga.Commands.ActivateAsync(SessionMessages.Activate(begin.SessionId, expiresAt), Cancel);

        Assert.Equal(new SignSessionActivation(true, expiresAt, null), activation);
        var session = await saga.Reader.FindAsync(begin.PakeSessionId, Cancel);
        Assert.NotNull(session);
        Assert.Equal(SignSessionPhase.Active, session.Phase);
        Assert.Equal(SessionMessages.SealedSessionKey, session.SealedSessionKey);
        Assert.Null(session.SealedLoginState); // dropped once it has served
        Assert.Equal("sign", session.Task);
        Assert.Equal(expiresAt, session.ExpiresAt);
        Assert.True(session.IsActiveAt(saga.Clock.GetUtcNow()));
    }

    [Fact]
    public async Task Activate_after_the_login_window_is_refused_and_ends_the_pending_session()
    {
        await using var saga = await SagaHarness.StartAsync(backend);
        var begin = await saga.BeginAsync();
        saga.Clock.Advance(TimeSpan.FromSeconds(10)); // PROTOCOL.md 1.5: pending login state valid 10 s

        var activation = await saga.Commands.ActivateAsync(
            SessionMessages.Activate(begin.SessionId, saga.Clock.GetUtcNow() + TimeSpan.FromMinutes(1)), Cancel);

        Assert.Equal(new SignSessionActivation(false, null, SignSessionNotActivatedReasons.LoginExpired), activation);
        Assert.Null(await saga.Reader.FindAsync(begin.PakeSessionId, Cancel));
        await saga.Log.WaitFor<SignSessionEnded>(x => x.SessionId == begin.SessionId && x.Reason == SignSessionEndReasons.LoginExpired);
    }

    [Fact]
    public async Task A_second_activation_is_refused_as_not_pending()
    {
        await using var saga = await SagaHarness.StartAsync(backend);
        var begin = await saga.BeginActiveAsync(TimeSpan.FromMinutes(1));

        var again = await saga.Commands.ActivateAsync(
            SessionMessages.Activate(begin.SessionId, saga.Clock.GetUtcNow() + TimeSpan.FromMinutes(15)), Cancel);

        Assert.Equal(new SignSessionActivation(false, null, SignSessionNotActivatedReasons.NotPending), again);
        var session = await saga.Reader.FindAsync(begin.PakeSessionId, Cancel);
        Assert.NotNull(session);
        Assert.Equal(saga.Clock.GetUtcNow() + TimeSpan.FromMinutes(1), session.ExpiresAt); // the first activation stands
    }

    [Fact]
    public async Task Activate_of_an_unknown_session_is_refused_and_creates_nothing()
    {
        await using var saga = await SagaHarness.StartAsync(backend);
        var unknown = SessionMessages.Begin(saga.Clock.GetUtcNow());

        var activation = await saga.Commands.ActivateAsync(
            SessionMessages.Activate(unknown.SessionId, saga.Clock.GetUtcNow() + TimeSpan.FromMinutes(1)), Cancel);

        Assert.Equal(new SignSessionActivation(false, null, SignSessionNotActivatedReasons.Unknown), activation);
        Assert.Null(await saga.Reader.FindAsync(unknown.SessionId, Cancel));
    }

    [Fact]
    public async Task Begin_whose_session_id_is_not_derived_from_the_pake_session_id_faults_and_stores_nothing()
    {
        await using var saga = await SagaHarness.StartAsync(backend);
        var begin = SessionMessages.Begin(saga.Clock.GetUtcNow()) with { SessionId = Guid.NewGuid() };

        await Assert.ThrowsAsync<RequestFaultException>(() => saga.Commands.BeginLoginAsync(begin, Cancel));

        Assert.Null(await saga.Reader.FindAsync(begin.SessionId, Cancel));
    }

    [Fact]
    public async Task Close_replies_closed_removes_the_session_and_publishes_its_end()
    {
        await using var saga = await SagaHarness.StartAsync(backend);
        var begin = await saga.BeginActiveAsync(TimeSpan.FromMinutes(1));

        await saga.Commands.CloseAsync(begin.SessionId, SignSessionEndReasons.Closed, Cancel);

        Assert.Null(await saga.Reader.FindAsync(begin.PakeSessionId, Cancel));
        var ended = await saga.Log.WaitFor<SignSessionEnded>(x => x.SessionId == begin.SessionId);
        Assert.Equal(
            new SignSessionEnded(begin.SessionId, begin.PakeSessionId, "client-1", "kid-1", "hsm", SignSessionEndReasons.Closed,
                saga.Clock.GetUtcNow()),
            ended);
    }

    [Fact]
    public async Task Close_of_a_pending_session_ends_it_too()
    {
        await using var saga = await SagaHarness.StartAsync(backend);
        var begin = await saga.BeginAsync();

        await saga.Commands.CloseAsync(begin.SessionId, SignSessionEndReasons.Closed, Cancel);

        Assert.Null(await saga.Reader.FindAsync(begin.PakeSessionId, Cancel));
    }

    [Fact]
    public async Task Close_of_a_missing_session_replies_closed_and_creates_nothing()
    {
        await using var saga = await SagaHarness.StartAsync(backend);
        var missing = SessionMessages.Begin(saga.Clock.GetUtcNow());

        var client = saga.Harness.GetRequestClient<CloseSignSession>();
        var reply = await client.GetResponse<SignSessionClosed>(new CloseSignSession(missing.SessionId, SignSessionEndReasons.Closed), Cancel);

        Assert.Equal(missing.SessionId, reply.Message.SessionId);
        Assert.Null(await saga.Reader.FindAsync(missing.SessionId, Cancel));
        Assert.Empty(saga.Harness.Published.Select<SignSessionEnded>(Cancel));
    }

    [Fact]
    public async Task Expire_after_the_ttl_ends_an_active_session()
    {
        await using var saga = await SagaHarness.StartAsync(backend);
        var begin = await saga.BeginActiveAsync(TimeSpan.FromSeconds(30)); // PROTOCOL.md 1.5: task "sign" 30 s
        saga.Clock.Advance(TimeSpan.FromSeconds(30));

        await saga.ExpireAsync(begin.SessionId);

        await saga.Log.WaitFor<SignSessionEnded>(x => x.SessionId == begin.SessionId && x.Reason == SignSessionEndReasons.Expired);
        Assert.Null(await saga.Reader.FindAsync(begin.PakeSessionId, Cancel));
        Assert.Null(await saga.Reader.FindAsync(begin.PakeSessionId, Cancel));
    }

    [Fact]
    public async Task Expire_after_the_login_window_ends_a_pending_session()
    {
        await using var saga = await SagaHarness.StartAsync(backend);
        var begin = await saga.BeginAsync();
        saga.Clock.Advance(TimeSpan.FromSeconds(11));

        await saga.ExpireAsync(begin.SessionId);

        await saga.Log.WaitFor<SignSessionEnded>(x => x.SessionId == begin.SessionId && x.Reason == SignSessionEndReasons.LoginExpired);
        Assert.Null(await saga.Reader.FindAsync(begin.PakeSessionId, Cancel));
    }

    [Fact]
    public async Task Expire_before_the_session_is_due_is_ignored()
    {
        await using var saga = await SagaHarness.StartAsync(backend);
        var begin = await saga.BeginActiveAsync(TimeSpan.FromSeconds(30));
        saga.Clock.Advance(TimeSpan.FromSeconds(29));

        await saga.ExpireAsync(begin.SessionId);

        Assert.Empty(saga.Harness.Published.Select<SignSessionEnded>(Cancel));
        var session = await saga.Reader.FindAsync(begin.PakeSessionId, Cancel);
        Assert.NotNull(session);
        Assert.True(session.IsActiveAt(saga.Clock.GetUtcNow()));
    }

    [Fact]
    public async Task Expire_of_a_missing_session_is_discarded_and_creates_nothing()
    {
        await using var saga = await SagaHarness.StartAsync(backend);
        var missing = SessionMessages.Begin(saga.Clock.GetUtcNow());

        await saga.ExpireAsync(missing.SessionId);

        Assert.Null(await saga.Reader.FindAsync(missing.SessionId, Cancel));
        Assert.Empty(saga.Harness.Published.Select<SignSessionEnded>(Cancel));
    }

    [Fact]
    public async Task An_expired_session_is_not_usable_even_before_its_expiry_is_processed()
    {
        await using var saga = await SagaHarness.StartAsync(backend);
        var begin = await saga.BeginActiveAsync(TimeSpan.FromSeconds(30));
        saga.Clock.Advance(TimeSpan.FromSeconds(30));

        var session = await saga.Reader.FindAsync(begin.PakeSessionId, Cancel);

        Assert.NotNull(session); // the row still waits for the sweeper…
        Assert.False(session.IsActiveAt(saga.Clock.GetUtcNow())); // …but the use path refuses it (ARCHITECTURE.md, Expiry)
        Assert.False(session.IsUsableAt(saga.Clock.GetUtcNow()));
    }

    [Fact]
    public async Task Context_close_ends_only_the_sessions_of_that_binding()
    {
        await using var saga = await SagaHarness.StartAsync(backend);
        var ended1 = await saga.BeginActiveAsync(TimeSpan.FromMinutes(1), "client-a", "kid-1", "hsm");
        var ended2 = await saga.BeginAsync("client-a", "kid-1", "hsm");
        var otherContext = await saga.BeginActiveAsync(TimeSpan.FromMinutes(1), "client-a", "kid-1", "other");
        var otherKid = await saga.BeginActiveAsync(TimeSpan.FromMinutes(1), "client-a", "kid-2", "hsm");
        var otherClient = await saga.BeginActiveAsync(TimeSpan.FromMinutes(1), "client-b", "kid-1", "hsm");

        var count = await saga.Commands.CloseContextAsync("client-a", "kid-1", "hsm", Cancel);

        Assert.Equal(2, count);
        Assert.Null(await saga.Reader.FindAsync(ended1.SessionId, Cancel));
        Assert.Null(await saga.Reader.FindAsync(ended2.SessionId, Cancel));
        Assert.NotNull(await saga.Reader.FindAsync(otherContext.SessionId, Cancel));
        Assert.NotNull(await saga.Reader.FindAsync(otherKid.SessionId, Cancel));
        Assert.NotNull(await saga.Reader.FindAsync(otherClient.SessionId, Cancel));
        await saga.Log.WaitFor<SignSessionEnded>(x => x.SessionId == ended1.SessionId);
        await saga.Log.WaitFor<SignSessionEnded>(x => x.SessionId == ended2.SessionId);
        var ends = saga.Harness.Published.Select<SignSessionEnded>(Cancel).Select(x => x.Context.Message).ToList();
        Assert.Equal(2, ends.Count);
        Assert.All(ends, end => Assert.Equal(SignSessionEndReasons.ContextClosed, end.Reason));
    }

    [Fact]
    public async Task Context_close_with_no_sessions_replies_zero()
    {
        await using var saga = await SagaHarness.StartAsync(backend);

        Assert.Equal(0, await saga.Commands.CloseContextAsync("client-a", "kid-1", "hsm", Cancel));
    }

    [Fact]
    public async Task Ending_a_client_key_ends_its_sessions_in_every_context_and_no_other()
    {
        await using var saga = await SagaHarness.StartAsync(backend);
        var hsm = await saga.BeginActiveAsync(TimeSpan.FromMinutes(1), "client-a", "kid-1", "hsm");
        var other = await saga.BeginActiveAsync(TimeSpan.FromMinutes(1), "client-a", "kid-1", "other");
        var pending = await saga.BeginAsync("client-a", "kid-1", "hsm");
        var otherKid = await saga.BeginActiveAsync(TimeSpan.FromMinutes(1), "client-a", "kid-2", "hsm");
        var otherClient = await saga.BeginActiveAsync(TimeSpan.FromMinutes(1), "client-b", "kid-1", "hsm");

        var count = await saga.Commands.EndClientSessionsAsync("client-a", "kid-1", SignSessionEndReasons.Revoked, Cancel);

        Assert.Equal(3, count);
        foreach (var gone in new[] { hsm, other, pending })
            Assert.Null(await saga.Reader.FindAsync(gone.SessionId, Cancel));
        Assert.NotNull(await saga.Reader.FindAsync(otherKid.SessionId, Cancel));
        Assert.NotNull(await saga.Reader.FindAsync(otherClient.SessionId, Cancel));
        foreach (var gone in new[] { hsm, other, pending })
            await saga.Log.WaitFor<SignSessionEnded>(x => x.SessionId == gone.SessionId);
        var ends = saga.Harness.Published.Select<SignSessionEnded>(Cancel).Select(x => x.Context.Message).ToList();
        Assert.Equal(
            new[] { hsm.SessionId, other.SessionId, pending.SessionId }.Order(),
            ends.Select(end => end.SessionId).Order());
        Assert.All(ends, end => Assert.Equal(SignSessionEndReasons.Revoked, end.Reason));
    }
}

public sealed class SignSessionStateMachineTestsOnSqlite() : SignSessionStateMachineTests(TestDatabaseProvider.Sqlite);

public sealed class SignSessionStateMachineTestsOnPostgres(PostgreSqlServerFixture server) : SignSessionStateMachineTests(TestDatabaseProvider.Postgres(server));
