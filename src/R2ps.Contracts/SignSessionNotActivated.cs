namespace R2ps.Contracts;

/// <summary>Saga → worker: the session was not activated; <paramref name="Reason"/> is one of <see cref="SignSessionNotActivatedReasons"/>.</summary>
/// <param name="SessionId">The session's correlation id.</param>
/// <param name="Reason">Why: not pending, login window passed, or unknown session.</param>
public sealed record SignSessionNotActivated(Guid SessionId, string Reason);
