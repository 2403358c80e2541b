namespace R2ps.Contracts;

/// <summary>
/// Worker → saga, after a successful <c>authenticate</c> finalize: make the pending session active. Replied to with
/// <see cref="SignSessionActivated"/> or <see cref="SignSessionNotActivated"/>.
/// </summary>
/// <param name="SessionId">The session's correlation id.</param>
/// <param name="SealedSessionKey">The OPAQUE session key, sealed by the HSM; opaque to the saga.</param>
/// <param name="Task">The task the session was opened for, if the wallet named one.</param>
/// <param name="ExpiresAt">The session's TTL end, already capped by the task and the default maximum.</param>
public sealed record ActivateSignSession(Guid SessionId, byte[] SealedSessionKey, string? Task, DateTimeOffset ExpiresAt);
