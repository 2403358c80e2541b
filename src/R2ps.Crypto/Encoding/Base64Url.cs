using System.Buffers;
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
        // Alphabet only (no padding, no whitespace, which the decoder below would skip), checked vectorised.
        if (text.AsSpan().ContainsAnyExcept(Alphabet)) return false;
        // Canonical form only (set trailing bits would be a second spelling of the same bytes, a malleability vector):
        // the last character of a 2- or 3-character final group carries 4 or 2 unused low bits, which must be zero.
        if (text.Length % 4 is var tail and not 0 && (SextetOf(text[^1]) & (tail == 2 ? 0b1111 : 0b11)) != 0) return false;
        try
        {
            bytes = NetBase64Url.DecodeFromChars(text);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static readonly SearchValues<char> Alphabet = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

    /// <summary>The 6-bit value of a base64url alphabet character.</summary>
    private static int SextetOf(char c) => c switch
    {
        >= 'A' and <= 'Z' => c - 'A',
        >= 'a' and <= 'z' => c - 'a' + 26,
        >= '0' and <= '9' => c - '0' + 52,
        '-' => 62,
        _ => 63,
    };
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
