using System.Text.Json.Serialization;

namespace R2ps.Protocol.Payloads;

/// <summary><c>hsm_ec_delete_key</c> request plaintext.</summary>
public sealed record DeleteKeyRequest([property: JsonPropertyName("kid")] string Kid);
