namespace R2ps.Contracts;

/// <summary>Registered?, PIN set?, locked until?, and how many HSM keys the client owns.</summary>
public sealed record ClientStatusReported(string ClientId, string Kid, bool Registered, bool PinSet, DateTimeOffset? LockedUntil, int HsmKeyCount);
