using System.Text.Json.Serialization;

namespace R2ps.Protocol.Payloads;

/// <summary>PAKE response plaintext (PROTOCOL.md 1.4).</summary>
public sealed record PakeResponse(
    [property: JsonPropertyName("pake_session_id")] string? PakeSessionId = null,
    [property: JsonPropertyName("resp")] string? Resp = null,
    [property: JsonPropertyName("msg")] string? Msg = null,
    [property: JsonPropertyName("task")] string? Task = null,
    [property: JsonPropertyName("session_expiration_time")] long? SessionExpirationTime = null);
