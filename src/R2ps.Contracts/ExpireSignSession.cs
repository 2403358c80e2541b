namespace R2ps.Contracts;

/// <summary>
/// Sweeper → saga: this session looked due. The saga re-checks the due time with its own clock, so a duplicate or an
/// early one is harmless; one for a session already gone is discarded.
/// </summary>
/// <param name="SessionId">The session's correlation id.</param>
public sealed record ExpireSignSession(Guid SessionId);
