using System.Text.Json.Serialization;

namespace R2ps.Protocol.Payloads;

/// <summary><c>hsm_ecdsa</c> request plaintext: <c>tbs_hash</c> is base64 of 32, 48 or 64 bytes.</summary>
public sealed record EcdsaRequest(
    [property: JsonPropertyName("kid")] string Kid,
    [property: JsonPropertyName("tbs_hash")] string TbsHash);
