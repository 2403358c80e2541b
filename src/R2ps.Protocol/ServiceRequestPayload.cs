using System.Text.Json.Serialization;

namespace R2ps.Protocol;

/// <summary>The payload of an R2PS request JWS (PROTOCOL.md 1.1).</summary>
public sealed record ServiceRequestPayload(
    [property: JsonPropertyName("ver")] string Ver,
    [property: JsonPropertyName("nonce")] string Nonce,
    [property: JsonPropertyName("iat")] long Iat,
    [property: JsonPropertyName("enc")] string Enc,
    [property: JsonPropertyName("data")] string Data,
    [property: JsonPropertyName("client_id")] string ClientId,
    [property: JsonPropertyName("kid")] string Kid,
    [property: JsonPropertyName("context")] string Context,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("pake_session_id")] string? PakeSessionId = null);
