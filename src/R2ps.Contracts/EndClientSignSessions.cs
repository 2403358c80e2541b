namespace R2ps.Contracts;

/// <summary>
/// End every session of <c>(ClientId, Kid)</c> in every context: revocation, a new PIN, a lockout. Replied to with
/// <see cref="ClientSignSessionsEnded"/> once each of them is closed.
/// </summary>
/// <param name="ClientId">Client id.</param>
/// <param name="Kid">Device key id.</param>
/// <param name="Reason">One of <see cref="SignSessionEndReasons"/>; carried into <see cref="SignSessionEnded"/>.</param>
public sealed record EndClientSignSessions(string ClientId, string Kid, string Reason);
