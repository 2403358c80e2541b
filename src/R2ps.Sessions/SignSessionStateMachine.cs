using MassTransit;
using R2ps.Contracts;

namespace R2ps.Sessions;

/// <summary>
/// The life of one sign session: <c>PendingLogin</c> from the <c>authenticate</c> evaluate until the finalize activates
/// it, <c>Active</c> until its TTL passes, and then ended — whichever of TTL, close, context close, revocation, new PIN or
/// lockout comes first. An ended session is finalized and its row deleted, and <see cref="SignSessionEnded"/> is
/// published once. Replies and events leave through the endpoint's in-memory outbox, i.e. only after the row is written.
/// </summary>
public sealed class SignSessionStateMachine : MassTransitStateMachine<SignSessionState>
{
    readonly TimeProvider _time;
    readonly TimeSpan _maxSessionDuration;

    /// <summary>
    /// Defines the states, events and behaviour; <paramref name="timeProvider"/> is the clock of every expiry check, and
    /// no session is activated for longer than <see cref="SignSessionOptions.MaxSessionDuration"/>.
    /// </summary>
    public SignSessionStateMachine(TimeProvider timeProvider, Microsoft.Extensions.Options.IOptions<SignSessionOptions> options)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(options);
        _time = timeProvider;
        _maxSessionDuration = options.Value.MaxSessionDuration;

        InstanceState(x => x.CurrentState);

        Event(() => LoginBegun, e => e.CorrelateById(m => m.Message.SessionId));
        Event(() => ActivationRequested, e =>
        {
            e.CorrelateById(m => m.Message.SessionId);
            e.OnMissingInstance(m => m.ExecuteAsync(c =>
                c.RespondAsync(new SignSessionNotActivated(c.Message.SessionId, SignSessionNotActivatedReasons.Unknown))));
        });
        Event(() => CloseRequested, e =>
        {
            e.CorrelateById(m => m.Message.SessionId);
            // Closing what is already gone is a success: the caller wanted it gone.
            e.OnMissingInstance(m => m.ExecuteAsync(c => c.RespondAsync(new SignSessionClosed(c.Message.SessionId))));
        });
        Event(() => ExpiryDue, e =>
        {
            e.CorrelateById(m => m.Message.SessionId);
            e.OnMissingInstance(m => m.Discard());
        });

        Initially(
            When(LoginBegun)
                .Then(c => BeginLogin(c.Saga, c.Message))
                .TransitionTo(PendingLogin)
                .Respond(c => new SignSessionLoginPending(c.Saga.CorrelationId)));

        During(PendingLogin,
            // A redelivered begin finds its own row: answer it again.
            When(LoginBegun)
                .Respond(c => new SignSessionLoginPending(c.Saga.CorrelationId)),
            When(ActivationRequested)
                .IfElse(c => Now < c.Saga.LoginExpiresAt,
                    inWindow => inWindow
                        .Then(c => Activate(c.Saga, c.Message))
                        .TransitionTo(Active)
                        .Respond(c => new SignSessionActivated(c.Saga.CorrelationId, c.Saga.DueAt)),
                    late => late
                        .Respond(c => new SignSessionNotActivated(c.Saga.CorrelationId, SignSessionNotActivatedReasons.LoginExpired))
                        .Publish(c => Ended(c.Saga, SignSessionEndReasons.LoginExpired))
                        .Finalize()),
            When(ExpiryDue, c => IsDue(c.Saga))
                .Publish(c => Ended(c.Saga, SignSessionEndReasons.LoginExpired))
                .Finalize());

        During(Active,
            // A begin re-sent after its session was activated (a slow redelivery): answer it, so its sender is not left
            // waiting for a timeout; the session itself is not touched.
            When(LoginBegun)
                .Respond(c => new SignSessionLoginPending(c.Saga.CorrelationId)),
            // A KE3 is accepted once: a second activation (a replayed finalize) is refused.
            When(ActivationRequested)
                .Respond(c => new SignSessionNotActivated(c.Saga.CorrelationId, SignSessionNotActivatedReasons.NotPending)),
            When(ExpiryDue, c => IsDue(c.Saga))
                .Publish(c => Ended(c.Saga, SignSessionEndReasons.Expired))
                .Finalize());

        During(PendingLogin, Active,
            When(CloseRequested)
                .Publish(c => Ended(c.Saga, c.Message.Reason))
                .Respond(c => new SignSessionClosed(c.Saga.CorrelationId))
                .Finalize());

        // An ended session leaves no row behind.
        SetCompletedWhenFinalized();
    }

    /// <summary>Login pending: holds the sealed login state until activation or <c>LoginExpiresAt</c>.</summary>
    public State PendingLogin { get; private set; } = null!;

    /// <summary>Active: holds the sealed session key until <c>ExpiresAt</c>.</summary>
    public State Active { get; private set; } = null!;

    /// <summary><see cref="BeginSignSessionLogin"/> received.</summary>
    public Event<BeginSignSessionLogin> LoginBegun { get; private set; } = null!;

    /// <summary><see cref="ActivateSignSession"/> received.</summary>
    public Event<ActivateSignSession> ActivationRequested { get; private set; } = null!;

    /// <summary><see cref="CloseSignSession"/> received.</summary>
    public Event<CloseSignSession> CloseRequested { get; private set; } = null!;

    /// <summary><see cref="ExpireSignSession"/> received (from the sweeper).</summary>
    public Event<ExpireSignSession> ExpiryDue { get; private set; } = null!;

    DateTimeOffset Now => _time.GetUtcNow();

    // The sweeper's view may be stale or its clock ahead: the saga decides with its own clock, and a premature expiry
    // message is simply dropped (the sweeper sends another once the session really is due).
    bool IsDue(SignSessionState session) => Now >= session.DueAt;

    static void BeginLogin(SignSessionState session, BeginSignSessionLogin message)
    {
        // The two ids must name the same session, or the read model (by pake id) and the saga (by Guid) would disagree.
        if (SignSessionIds.ToSessionId(message.PakeSessionId) != message.SessionId)
            throw new ArgumentException("SessionId is not derived from PakeSessionId.", nameof(message));
        if (string.IsNullOrEmpty(message.ClientId) || string.IsNullOrEmpty(message.Kid) || string.IsNullOrEmpty(message.Context))
            throw new ArgumentException("A sign session is bound to a non-empty client id, kid and context.", nameof(message));
        if (message.SealedLoginState is not { Length: > 0 })
            throw new ArgumentException("The sealed login state is missing.", nameof(message));

        session.PakeSessionId = message.PakeSessionId;
        session.ClientId = message.ClientId;
        session.Kid = message.Kid;
        session.Context = message.Context;
        session.SealedLoginState = message.SealedLoginState;
        session.StartedAt = message.StartedAt;
        session.LoginExpiresAt = message.LoginExpiresAt;
        session.DueAt = message.LoginExpiresAt;
    }

    void Activate(SignSessionState session, ActivateSignSession message)
    {
        if (message.SealedSessionKey is not { Length: > 0 })
            throw new ArgumentException("The sealed session key is missing.", nameof(message));

        session.SealedSessionKey = message.SealedSessionKey;
        // The login state has served its purpose; keep no more sealed material at rest than the session needs.
        session.SealedLoginState = null;
        session.Task = message.Task;
        var now = Now;
        session.ActivatedAt = now;
        // The worker computes the expiry; the saga still refuses to hold a session longer than the configured maximum.
        var latest = now + _maxSessionDuration;
        var expiresAt = message.ExpiresAt < latest ? message.ExpiresAt : latest;
        session.ExpiresAt = expiresAt;
        session.DueAt = expiresAt;
    }

    SignSessionEnded Ended(SignSessionState session, string reason) =>
        new(session.CorrelationId, session.PakeSessionId, session.ClientId, session.Kid, session.Context, reason, Now);
}
