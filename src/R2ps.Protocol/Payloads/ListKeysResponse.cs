using System.Text.Json.Serialization;

namespace R2ps.Protocol.Payloads;

/// <summary><c>hsm_list_keys</c> response plaintext.</summary>
public sealed record ListKeysResponse([property: JsonPropertyName("key_info")] IReadOnlyList<KeyInfo> KeyInfo);
