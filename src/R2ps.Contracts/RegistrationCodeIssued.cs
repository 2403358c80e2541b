namespace R2ps.Contracts;

/// <summary>The hash of a fresh one-time code is stored, replacing any earlier one; no code crosses the broker.</summary>
public sealed record RegistrationCodeIssued(string ClientId, string Kid, DateTimeOffset AuthorizationExpiresAt, byte[] ServerPublicKeySpki);
