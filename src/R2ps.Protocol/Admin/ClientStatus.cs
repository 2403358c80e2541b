using System.Text.Json.Serialization;

namespace R2ps.Protocol.Admin;

/// <summary><c>GET /admin/v1/clients/{client_id}/keys/{kid}</c>.</summary>
public sealed record ClientStatus(
    [property: JsonPropertyName("client_id")] string ClientId,
    [property: JsonPropertyName("kid")] string Kid,
    [property: JsonPropertyName("registered")] bool Registered,
    [property: JsonPropertyName("pin_set")] bool PinSet,
    [property: JsonPropertyName("locked_until")] long? LockedUntil,
    [property: JsonPropertyName("hsm_key_count")] int HsmKeyCount,
    [property: JsonPropertyName("secret_count")] int SecretCount = 0);
