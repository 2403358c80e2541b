namespace R2ps.Contracts;

/// <summary>
/// Admin → HSM service (PROTOCOL.md 2.4): register a device key with its allowed contexts and store its one-time PIN
/// registration code. The BFF makes the code and sends only <paramref name="RegistrationCodeHash"/> (SHA-256 of the
/// code bytes): nothing secret crosses the broker (ARCHITECTURE.md). Answered with <see cref="ClientRegistered"/> or
/// <see cref="AdminRequestRefused"/>.
/// </summary>
public sealed record RegisterClient(string ClientId, string Kid, byte[] PublicKeySpki, IReadOnlyList<string> Contexts, byte[] RegistrationCodeHash);
