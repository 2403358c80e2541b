namespace R2ps.Contracts;

/// <summary>
/// Registered?, PIN set?, locked until?, how many HSM keys the client owns, and how many vault secrets the key holds
/// (last, with a default: a worker of an older release that does not send it reports 0).
/// </summary>
public sealed record ClientStatusReported(string ClientId, string Kid, bool Registered, bool PinSet, DateTimeOffset? LockedUntil, int HsmKeyCount, int SecretCount = 0);
