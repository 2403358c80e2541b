using System.Text.Json.Serialization;

namespace R2ps.Protocol.DeviceSessions;

/// <summary>The HPKE-sealed plaintext of a device-session request; ids must equal the outer ones.</summary>
public sealed record DeviceSessionHello(
    [property: JsonPropertyName("client_id")] string ClientId,
    [property: JsonPropertyName("kid")] string Kid,
    [property: JsonPropertyName("iat")] long Iat,
    [property: JsonPropertyName("nonce")] string Nonce);
