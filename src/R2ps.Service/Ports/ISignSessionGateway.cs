namespace R2ps.Service.Ports;

/// <summary>Where a sign session is in its life.</summary>
public enum SignSessionPhase
{
    /// <summary>After <c>authenticate</c> evaluate, waiting for finalize.</summary>
    PendingLogin,

    /// <summary>Logged in; serves user-mode requests until it expires or ends.</summary>
    Active,
}

/// <summary>A live sign session as the saga's read model reports it (sealed values stay sealed).</summary>
public sealed record SignSessionView(
    string PakeSessionId,
    string ClientId,
    string Kid,
    string Context,
    SignSessionPhase Phase,
    byte[]? SealedLoginState,
    byte[]? SealedSessionKey,
    string? Task,
    DateTimeOffset StartedAt,
    DateTimeOffset LoginExpiresAt,
    DateTimeOffset? ExpiresAt)
{
    public bool IsBoundTo(string clientId, string kid, string context) =>
        string.Equals(ClientId, clientId, StringComparison.Ordinal)
        && string.Equals(Kid, kid, StringComparison.Ordinal)
        && string.Equals(Context, context, StringComparison.Ordinal);
}

/// <summary>A login the saga must hold until finalize or the end of its window.</summary>
public sealed record PendingSignSession(
    string PakeSessionId,
    string ClientId,
    string Kid,
    string Context,
    byte[] SealedLoginState,
    DateTimeOffset StartedAt,
    DateTimeOffset LoginExpiresAt);

/// <summary>The saga's answer to an activation.</summary>
public enum ActivationOutcome
{
    Activated,

    /// <summary>Not waiting for a finalize (already active: a KE3 is accepted once).</summary>
    NotPending,

    /// <summary>The login window passed.</summary>
    LoginExpired,

    /// <summary>No such session.</summary>
    Unknown,
}

/// <summary>Why a session ends; the saga's wire values.</summary>
public static class SessionEndReasons
{
    public const string Closed = "closed";
    public const string ContextClosed = "context-closed";
    public const string Revoked = "revoked";
    public const string PinChanged = "pin-changed";
    public const string LockedOut = "locked-out";
}

/// <summary>
/// The sign-session saga as the core uses it (sessions: MassTransit request clients for the commands, the saga's
/// <c>ISignSessionReader</c> for reads). Every call is bounded; an unreachable saga surfaces as an
/// <see cref="R2ps.Protocol.R2psException"/> SERVICE_UNAVAILABLE.
/// </summary>
public interface ISignSessionGateway
{
    Task BeginLoginAsync(PendingSignSession login, CancellationToken cancellationToken);

    /// <summary>The session, or null when unknown or ended.</summary>
    Task<SignSessionView?> FindAsync(string pakeSessionId, CancellationToken cancellationToken);

    Task<ActivationOutcome> ActivateAsync(string pakeSessionId, byte[] sealedSessionKey, string? task, DateTimeOffset expiresAt, CancellationToken cancellationToken);

    /// <summary>Ends one session; idempotent.</summary>
    Task CloseAsync(string pakeSessionId, string reason, CancellationToken cancellationToken);

    /// <summary>Ends every session of <c>(client_id, kid, context)</c>; returns how many.</summary>
    Task<int> CloseContextAsync(string clientId, string kid, string context, CancellationToken cancellationToken);

    /// <summary>Ends every session of <c>(client_id, kid)</c> in every context; returns how many.</summary>
    Task<int> EndClientSessionsAsync(string clientId, string kid, string reason, CancellationToken cancellationToken);
}
