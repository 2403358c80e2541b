using System.Text.Json.Serialization;

namespace R2ps.Protocol.Admin;

/// <summary>201 body of a client registration or a fresh one-time code (PIN reset).</summary>
public sealed record ClientRegistered(
    [property: JsonPropertyName("client_id")] string ClientId,
    [property: JsonPropertyName("kid")] string Kid,
    [property: JsonPropertyName("authorization")] string Authorization,
    [property: JsonPropertyName("authorization_expires_at")] long AuthorizationExpiresAt,
    [property: JsonPropertyName("server_public_key")] string ServerPublicKey);
