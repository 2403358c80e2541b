namespace R2ps.Sessions;

/// <summary>A read-only view of one stored sign session.</summary>
/// <param name="SessionId">Saga correlation id.</param>
/// <param name="PakeSessionId">Wire id.</param>
/// <param name="Phase">Pending login or active (as stored: check the times too).</param>
/// <param name="ClientId">Binding: client id.</param>
/// <param name="Kid">Binding: device key id.</param>
/// <param name="Context">Binding: context.</param>
/// <param name="SealedLoginState">HSM-sealed OPAQUE login state while pending, else null.</param>
/// <param name="SealedSessionKey">HSM-sealed session key once active, else null.</param>
/// <param name="Task">The session's task, if any.</param>
/// <param name="StartedAt">When the evaluate ran (<c>pin_change</c> counts the age from here).</param>
/// <param name="LoginExpiresAt">End of the login window.</param>
/// <param name="ExpiresAt">TTL end once active, else null.</param>
#pragma warning disable CA1819 // Sealed blobs handed to the HSM as they are.
public sealed record SignSessionSnapshot(
    Guid SessionId,
    string PakeSessionId,
    SignSessionPhase Phase,
    string ClientId,
    string Kid,
    string Context,
    byte[]? SealedLoginState,
    byte[]? SealedSessionKey,
    string? Task,
    DateTimeOffset StartedAt,
    DateTimeOffset LoginExpiresAt,
    DateTimeOffset? ExpiresAt)
#pragma warning restore CA1819
{
    /// <summary>True when the session may be finalized at <paramref name="now"/>: pending and inside its login window.</summary>
    public bool IsLoginPendingAt(DateTimeOffset now) => Phase == SignSessionPhase.PendingLogin && now < LoginExpiresAt;

    /// <summary>True when the session may serve a user-type request at <paramref name="now"/>: active and before its TTL end.</summary>
    public bool IsActiveAt(DateTimeOffset now) => Phase == SignSessionPhase.Active && ExpiresAt is { } expiresAt && now < expiresAt;

    /// <summary>True when the session has not expired at <paramref name="now"/> in its current phase.</summary>
    public bool IsUsableAt(DateTimeOffset now) => IsLoginPendingAt(now) || IsActiveAt(now);

    /// <summary>True when the session is bound to exactly this <c>(clientId, kid, context)</c> (ordinal comparison).</summary>
    public bool IsBoundTo(string clientId, string kid, string context) =>
        string.Equals(ClientId, clientId, StringComparison.Ordinal)
        && string.Equals(Kid, kid, StringComparison.Ordinal)
        && string.Equals(Context, context, StringComparison.Ordinal);
}
