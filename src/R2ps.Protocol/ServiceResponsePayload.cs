using System.Text.Json.Serialization;

namespace R2ps.Protocol;

/// <summary>The payload of an R2PS response JWS (PROTOCOL.md 1.2): only these five members.</summary>
public sealed record ServiceResponsePayload(
    [property: JsonPropertyName("ver")] string Ver,
    [property: JsonPropertyName("nonce")] string Nonce,
    [property: JsonPropertyName("iat")] long Iat,
    [property: JsonPropertyName("enc")] string Enc,
    [property: JsonPropertyName("data")] string Data);
