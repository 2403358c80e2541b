namespace R2ps.Contracts;

/// <summary>The device key of an active registration: SPKI DER, and the contexts it may use.</summary>
public sealed record DeviceKeyFound(string ClientId, string Kid, byte[] PublicKeySpki, IReadOnlyList<string> Contexts);
