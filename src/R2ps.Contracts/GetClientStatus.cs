namespace R2ps.Contracts;

/// <summary>Admin → HSM service: the state of a registration. Answered with <see cref="ClientStatusReported"/>.</summary>
public sealed record GetClientStatus(string ClientId, string Kid);
