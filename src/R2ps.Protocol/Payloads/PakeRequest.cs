using System.Text.Json.Serialization;

namespace R2ps.Protocol.Payloads;

/// <summary>PAKE request plaintext (PROTOCOL.md 1.4): binary members are base64.</summary>
public sealed record PakeRequest(
    [property: JsonPropertyName("protocol")] string Protocol,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("req")] string Req,
    [property: JsonPropertyName("authorization")] string? Authorization = null,
    [property: JsonPropertyName("task")] string? Task = null,
    [property: JsonPropertyName("session_duration")] long? SessionDuration = null)
{
    public const string Opaque = "opaque";
    public const string Evaluate = "evaluate";
    public const string Finalize = "finalize";
}
