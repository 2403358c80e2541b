using System.Text.Json.Serialization;

namespace R2ps.Protocol.DeviceSessions;

/// <summary><c>POST /r2ps/v1/device-sessions</c> body (PROTOCOL.md 2.1): <c>enc</c> and <c>ct</c> are base64url.</summary>
public sealed record DeviceSessionRequest(
    [property: JsonPropertyName("client_id")] string ClientId,
    [property: JsonPropertyName("kid")] string Kid,
    [property: JsonPropertyName("enc")] string Enc,
    [property: JsonPropertyName("ct")] string Ct);
