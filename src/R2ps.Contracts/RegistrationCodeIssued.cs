namespace R2ps.Contracts;

/// <summary>A fresh one-time code (base64; shown once, stored only hashed), replacing any earlier one.</summary>
public sealed record RegistrationCodeIssued(string ClientId, string Kid, string Authorization, DateTimeOffset AuthorizationExpiresAt, byte[] ServerPublicKeySpki);
