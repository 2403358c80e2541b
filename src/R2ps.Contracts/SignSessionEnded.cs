namespace R2ps.Contracts;

/// <summary>
/// Published once for every session that ends (close, context close, expiry, revocation, new PIN, lockout), after the
/// end is persisted: caches of the session invalidate on it.
/// </summary>
/// <param name="SessionId">The session's correlation id.</param>
/// <param name="PakeSessionId">The wire id of the session.</param>
/// <param name="ClientId">Binding: client id.</param>
/// <param name="Kid">Binding: device key id.</param>
/// <param name="Context">Binding: context.</param>
/// <param name="Reason">One of <see cref="SignSessionEndReasons"/>.</param>
/// <param name="EndedAt">When the saga ended it.</param>
public sealed record SignSessionEnded(
    Guid SessionId,
    string PakeSessionId,
    string ClientId,
    string Kid,
    string Context,
    string Reason,
    DateTimeOffset EndedAt);
