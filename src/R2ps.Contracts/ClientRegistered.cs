namespace R2ps.Contracts;

/// <summary>
/// A registration: when its one-time code (made by the BFF, stored here only as the hash it sent) expires, and the
/// server key of the client's first context, SPKI DER. No code: nothing secret crosses the broker.
/// </summary>
public sealed record ClientRegistered(string ClientId, string Kid, DateTimeOffset AuthorizationExpiresAt, byte[] ServerPublicKeySpki);
