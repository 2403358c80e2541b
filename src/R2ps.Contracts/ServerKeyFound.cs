namespace R2ps.Contracts;

/// <summary>A context's server public key, SPKI DER.</summary>
public sealed record ServerKeyFound(string Context, byte[] PublicKeySpki);
