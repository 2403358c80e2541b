namespace R2ps.Contracts;

/// <summary>
/// Admin → HSM service (PROTOCOL.md 2.4): register a device key with its allowed contexts and issue its one-time PIN
/// registration code. Answered with <see cref="ClientRegistered"/> or <see cref="AdminRequestRefused"/>.
/// </summary>
public sealed record RegisterClient(string ClientId, string Kid, byte[] PublicKeySpki, IReadOnlyList<string> Contexts);
