using System.Text.Json;
using System.Text.Json.Serialization;

namespace R2ps.Protocol;

/// <summary>
/// The one JSON configuration of the wire: members named by attributes, nulls omitted, and strict reading — a missing
/// required member, a null where a value is required, a duplicate member or a wrong JSON type is ILLEGAL_REQUEST_DATA.
/// </summary>
public static class R2psJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.General)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        AllowDuplicateProperties = false,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
        NumberHandling = JsonNumberHandling.Strict,
        PropertyNameCaseInsensitive = false,
        MaxDepth = 16,
    };

    public static byte[] Serialize<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, Options);

    public static string SerializeToString<T>(T value) => JsonSerializer.Serialize(value, Options);

    /// <summary>Reads <typeparamref name="T"/> or throws <see cref="R2psException"/> ILLEGAL_REQUEST_DATA naming what was read.</summary>
    public static T Deserialize<T>(ReadOnlySpan<byte> utf8, string what)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(utf8, Options)
                ?? throw new R2psException(ErrorCode.IllegalRequestData, $"The {what} is JSON null.");
        }
        catch (JsonException ex)
        {
            // The serializer's message names the member and position, never the content of a value.
            throw new R2psException(ErrorCode.IllegalRequestData, $"The {what} is not valid: {Describe(ex)}", ex);
        }
    }

    public static T Deserialize<T>(string json, string what) => Deserialize<T>(System.Text.Encoding.UTF8.GetBytes(json), what);

    private static string Describe(JsonException ex) =>
        ex.Path is { Length: > 0 } path ? $"{Shorten(ex.Message)} (at {path})" : Shorten(ex.Message);

    private static string Shorten(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }
}
