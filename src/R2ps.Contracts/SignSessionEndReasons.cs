namespace R2ps.Contracts;

/// <summary>Why a session ended: the values of <see cref="SignSessionEnded.Reason"/>. Wire values: never change them.</summary>
public static class SignSessionEndReasons
{
    /// <summary><c>session_end</c>.</summary>
    public const string Closed = "closed";

    /// <summary><c>session_context_end</c>.</summary>
    public const string ContextClosed = "context-closed";

    /// <summary>The active session's TTL passed.</summary>
    public const string Expired = "expired";

    /// <summary>The login window passed before a successful finalize.</summary>
    public const string LoginExpired = "login-expired";

    /// <summary>The client key was revoked.</summary>
    public const string Revoked = "revoked";

    /// <summary>A new PIN was registered.</summary>
    public const string PinChanged = "pin-changed";

    /// <summary>The client key was locked out after failed finalizes.</summary>
    public const string LockedOut = "locked-out";

    /// <summary>The client key began more logins than <c>SignSessions:MaxSessionsPerKey</c> allows: its oldest session made room.</summary>
    public const string Superseded = "superseded";
}
