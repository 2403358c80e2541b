using System.Text.Json.Serialization;

namespace R2ps.Protocol.Payloads;

/// <summary><c>hsm_ecdh</c> request plaintext: <c>public_key</c> is the peer's base64 SPKI DER on the key's curve.</summary>
public sealed record EcdhRequest(
    [property: JsonPropertyName("kid")] string Kid,
    [property: JsonPropertyName("public_key")] string PublicKey);
