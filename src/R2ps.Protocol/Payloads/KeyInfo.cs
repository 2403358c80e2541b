using System.Text.Json.Serialization;

namespace R2ps.Protocol.Payloads;

/// <summary>One listed HSM key: kid = lowercase hex of the compressed point, public_key = base64 SPKI DER.</summary>
public sealed record KeyInfo(
    [property: JsonPropertyName("kid")] string Kid,
    [property: JsonPropertyName("curve_name")] string CurveName,
    [property: JsonPropertyName("creation_time")] long CreationTime,
    [property: JsonPropertyName("public_key")] string PublicKey);
