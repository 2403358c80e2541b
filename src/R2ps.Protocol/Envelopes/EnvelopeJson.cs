using System.Text.Encodings.Web;
using System.Text.Json;

namespace R2ps.Protocol.Envelopes;

/// <summary>
/// Writing envelope payloads as the Java reference does: the strict <see cref="R2psJson"/> settings, but without the
/// HTML-safe escaping of the default encoder, so base64 <c>+</c> stays <c>+</c> (not <c>\u002B</c>). Reading is
/// unaffected: both forms are the same JSON string.
/// </summary>
public static class EnvelopeJson
{
    public static JsonSerializerOptions WriteOptions { get; } = new(R2psJson.Options)
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static byte[] Serialize<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, WriteOptions);
}
