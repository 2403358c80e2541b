namespace R2ps.Contracts;

/// <summary>Saga → requester: the session is gone (closed now, or it was already).</summary>
/// <param name="SessionId">The session's correlation id.</param>
public sealed record SignSessionClosed(Guid SessionId);
