using System.Text.Json.Serialization;

namespace R2ps.Protocol.DeviceSessions;

/// <summary><c>GET /r2ps/v1/keys</c>: the BFF key and one server key per context, base64 SPKI DER.</summary>
public sealed record ServiceKeys(
    [property: JsonPropertyName("bff_key")] string BffKey,
    [property: JsonPropertyName("server_keys")] IReadOnlyDictionary<string, string> ServerKeys);
