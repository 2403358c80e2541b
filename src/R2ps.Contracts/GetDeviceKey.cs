namespace R2ps.Contracts;

/// <summary>
/// BFF → HSM service: the registered device key of <c>(client_id, kid)</c>, for HPKE device sessions (PROTOCOL.md 2.1).
/// Answered with <see cref="DeviceKeyFound"/> or <see cref="DeviceKeyNotFound"/> (unknown or revoked alike).
/// </summary>
public sealed record GetDeviceKey(string ClientId, string Kid);
