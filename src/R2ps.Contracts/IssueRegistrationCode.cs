namespace R2ps.Contracts;

/// <summary>
/// Admin → HSM service: a fresh one-time code for an active registration (PIN reset), made by the BFF and sent only as
/// its SHA-256 (<paramref name="RegistrationCodeHash"/>). Answered with <see cref="RegistrationCodeIssued"/> or
/// <see cref="AdminRequestRefused"/>.
/// </summary>
public sealed record IssueRegistrationCode(string ClientId, string Kid, byte[] RegistrationCodeHash);
