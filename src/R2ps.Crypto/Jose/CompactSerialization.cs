using R2ps.Crypto.Encoding;

namespace R2ps.Crypto.Jose;

/// <summary>Splitting and decoding of compact serializations (RFC 7515 §7.1, RFC 7516 §7.1), size limit first.</summary>
internal static class CompactSerialization
{
    public static string[] Split(string compact, int segmentCount, JoseLimits limits, string kind)
    {
        ArgumentNullException.ThrowIfNull(compact);
        if (compact.Length > limits.MaxCompactLength)
            throw new JoseException(JoseError.InputTooLarge, $"The {kind} exceeds the size limit of {limits.MaxCompactLength} characters.");
        var dots = compact.AsSpan().Count('.');
        if (dots != segmentCount - 1)
            throw new JoseException(JoseError.MalformedCompact, $"A compact {kind} has {segmentCount} segments separated by '.', not {dots + 1}.");
        return compact.Split('.');
    }

    public static byte[] Decode(string segment, string what) =>
        Base64Url.TryDecode(segment, out var bytes)
            ? bytes
            : throw new JoseException(JoseError.InvalidBase64Url, $"The {what} is not canonical base64url.");

    /// <summary>Signing input and JWE AAD are ASCII; base64url segments are ASCII by construction (checked on decode).</summary>
    public static byte[] Ascii(string text) => System.Text.Encoding.ASCII.GetBytes(text);
}
