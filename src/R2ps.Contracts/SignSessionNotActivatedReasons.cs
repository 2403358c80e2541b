namespace R2ps.Contracts;

/// <summary>The values of <see cref="SignSessionNotActivated.Reason"/>. Wire values: never change them.</summary>
public static class SignSessionNotActivatedReasons
{
    /// <summary>The session exists but is not waiting for a finalize (already active: a KE3 is accepted once).</summary>
    public const string NotPending = "not-pending";

    /// <summary>The login window passed before the finalize arrived; the pending session has been ended.</summary>
    public const string LoginExpired = "login-expired";

    /// <summary>No such session (never begun, or already ended).</summary>
    public const string Unknown = "unknown";
}
