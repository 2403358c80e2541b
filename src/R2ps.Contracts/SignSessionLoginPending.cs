namespace R2ps.Contracts;

/// <summary>Saga → worker: the pending login of <see cref="BeginSignSessionLogin"/> is persisted.</summary>
/// <param name="SessionId">The session's correlation id.</param>
public sealed record SignSessionLoginPending(Guid SessionId);
