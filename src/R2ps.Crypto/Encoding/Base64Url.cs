using NetBase64Url = System.Buffers.Text.Base64Url;

namespace R2ps.Crypto.Encoding;

/// <summary>base64url without padding (RFC 7515 §2), strict: padding, whitespace and non-canonical trailing bits are rejected.</summary>
public static class Base64Url
{
    public static string Encode(ReadOnlySpan<byte> data) => NetBase64Url.EncodeToString(data);

    public static byte[] Decode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!TryDecode(text, out var bytes))
            throw new FormatException("Value is not canonical base64url without padding.");
        return bytes;
    }

    public static bool TryDecode(string text, out byte[] bytes)
    {
        bytes = [];
        if (text is null || text.Length % 4 == 1) return false;
        foreach (var c in text)
        {
            if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
                return false;
        }
        try
        {
            bytes = NetBase64Url.DecodeFromChars(text);
        }
        catch (FormatException)
        {
            return false;
        }
        // Canonical form only: re-encoding must give the same text (rejects set trailing bits, a malleability vector).
        return string.Equals(Encode(bytes), text, StringComparison.Ordinal);
    }
}

/// <summary>Standard base64 with padding, as PROTOCOL.md uses inside JSON payloads; strict and canonical.</summary>
public static class Base64Std
{
    public static string Encode(ReadOnlySpan<byte> data) => Convert.ToBase64String(data);

    public static bool TryDecode(string? text, out byte[] bytes)
    {
        bytes = [];
        if (text is null || text.Length % 4 != 0) return false;
        foreach (var c in text)
        {
            if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '='))
                return false;
        }
        try
        {
            bytes = Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            return false;
        }
        return string.Equals(Convert.ToBase64String(bytes), text, StringComparison.Ordinal);
    }

    public static byte[] Decode(string text) =>
        TryDecode(text, out var bytes) ? bytes : throw new FormatException("Value is not canonical base64 with padding.");
}
