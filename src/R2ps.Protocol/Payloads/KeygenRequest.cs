using System.Text.Json.Serialization;

namespace R2ps.Protocol.Payloads;

/// <summary><c>hsm_ec_keygen</c> request plaintext.</summary>
public sealed record KeygenRequest([property: JsonPropertyName("curve")] string Curve);
