using System.Text.Json.Serialization;

namespace R2ps.Protocol.DeviceSessions;

/// <summary>201 body of <c>POST /r2ps/v1/device-sessions</c>.</summary>
public sealed record DeviceSessionCreated(
    [property: JsonPropertyName("session_id")] string SessionId,
    [property: JsonPropertyName("expires_in")] long ExpiresIn,
    [property: JsonPropertyName("confirmation")] string Confirmation);
