namespace R2ps.Contracts;

/// <summary>No active registration for <c>(client_id, kid)</c>: never registered or revoked (not told apart).</summary>
public sealed record DeviceKeyNotFound(string ClientId, string Kid);
