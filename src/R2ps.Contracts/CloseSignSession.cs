namespace R2ps.Contracts;

/// <summary>
/// End one session (<c>session_end</c>, or one step of a fan-out). Replied to with <see cref="SignSessionClosed"/>,
/// also when the session was already gone: closing is idempotent.
/// </summary>
/// <param name="SessionId">The session's correlation id.</param>
/// <param name="Reason">One of <see cref="SignSessionEndReasons"/>; carried into <see cref="SignSessionEnded"/>.</param>
public sealed record CloseSignSession(Guid SessionId, string Reason);
