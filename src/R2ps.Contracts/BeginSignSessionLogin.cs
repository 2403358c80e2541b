namespace R2ps.Contracts;

/// <summary>
/// Worker → saga, after an <c>authenticate</c> evaluate: hold this pending login until it is activated or its login
/// window passes. Replied to with <see cref="SignSessionLoginPending"/> once the session is persisted.
/// </summary>
/// <param name="SessionId">The saga's correlation id: the first 16 bytes of <paramref name="PakeSessionId"/> as a Guid.</param>
/// <param name="PakeSessionId">The wire id: 64 lowercase hex characters (32 random bytes).</param>
/// <param name="ClientId">Binding: the envelope's <c>client_id</c>.</param>
/// <param name="Kid">Binding: the envelope's <c>kid</c>.</param>
/// <param name="Context">Binding: the envelope's <c>context</c>.</param>
/// <param name="SealedLoginState">The OPAQUE server login state, sealed by the HSM; opaque to the saga.</param>
/// <param name="StartedAt">When the evaluate ran (<c>pin_change</c> counts the session's age from here).</param>
/// <param name="LoginExpiresAt">The end of the login window: a finalize after this is refused.</param>
public sealed record BeginSignSessionLogin(
    Guid SessionId,
    string PakeSessionId,
    string ClientId,
    string Kid,
    string Context,
    byte[] SealedLoginState,
    DateTimeOffset StartedAt,
    DateTimeOffset LoginExpiresAt);
