using System.Text.Json.Serialization;

namespace R2ps.Protocol.Admin;

/// <summary><c>POST /admin/v1/clients</c> body (PROTOCOL.md 2.4).</summary>
public sealed record RegisterClientRequest(
    [property: JsonPropertyName("client_id")] string ClientId,
    [property: JsonPropertyName("kid")] string Kid,
    [property: JsonPropertyName("public_key")] string PublicKey,
    [property: JsonPropertyName("contexts")] IReadOnlyList<string> Contexts);
