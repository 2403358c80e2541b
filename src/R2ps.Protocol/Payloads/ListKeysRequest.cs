using System.Text.Json.Serialization;

namespace R2ps.Protocol.Payloads;

/// <summary><c>hsm_list_keys</c> request plaintext: absent or empty <c>curve</c> lists every curve.</summary>
public sealed record ListKeysRequest([property: JsonPropertyName("curve")] IReadOnlyList<string>? Curve = null);
