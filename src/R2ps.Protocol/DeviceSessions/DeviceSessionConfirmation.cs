using System.Text.Json.Serialization;

namespace R2ps.Protocol.DeviceSessions;

/// <summary>Plaintext of the confirmation JWE: proof that the BFF holds the device-session key.</summary>
public sealed record DeviceSessionConfirmation(
    [property: JsonPropertyName("session_id")] string SessionId,
    [property: JsonPropertyName("nonce")] string Nonce);
