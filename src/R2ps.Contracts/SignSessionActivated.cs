namespace R2ps.Contracts;

/// <summary>Saga → worker: the session is active until <paramref name="ExpiresAt"/>.</summary>
/// <param name="SessionId">The session's correlation id.</param>
/// <param name="ExpiresAt">The session's TTL end.</param>
public sealed record SignSessionActivated(Guid SessionId, DateTimeOffset ExpiresAt);
