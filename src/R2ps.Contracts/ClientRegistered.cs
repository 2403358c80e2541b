namespace R2ps.Contracts;

/// <summary>
/// A registration with its one-time code (base64; shown once, stored only hashed) and the server key of the client's
/// first context, SPKI DER.
/// </summary>
public sealed record ClientRegistered(string ClientId, string Kid, string Authorization, DateTimeOffset AuthorizationExpiresAt, byte[] ServerPublicKeySpki);
