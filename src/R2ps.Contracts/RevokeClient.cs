namespace R2ps.Contracts;

/// <summary>
/// Admin → HSM service: revoke a registration; its sign sessions end and its requests are denied from then on.
/// Answered with <see cref="ClientRevoked"/> or <see cref="AdminRequestRefused"/>.
/// </summary>
public sealed record RevokeClient(string ClientId, string Kid);
