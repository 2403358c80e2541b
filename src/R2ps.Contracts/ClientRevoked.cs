namespace R2ps.Contracts;

/// <summary>A registration revoked, with the number of sign sessions that ended with it.</summary>
public sealed record ClientRevoked(string ClientId, string Kid, int SessionsEnded);
