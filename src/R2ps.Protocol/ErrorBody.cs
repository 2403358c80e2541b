using System.Text.Json.Serialization;

namespace R2ps.Protocol;

/// <summary>The unsigned, unencrypted error body of PROTOCOL.md 1.2.</summary>
public sealed record ErrorBody(
    [property: JsonPropertyName("error_code")] string ErrorCode,
    [property: JsonPropertyName("error_message")] string ErrorMessage);
