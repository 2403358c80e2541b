using System.Text.Json.Serialization;

namespace R2ps.Protocol.Payloads;

/// <summary><c>hsm_ec_keygen</c> response plaintext.</summary>
public sealed record KeygenResponse([property: JsonPropertyName("created_key")] string CreatedKey);
