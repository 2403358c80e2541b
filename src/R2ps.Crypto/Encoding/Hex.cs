namespace R2ps.Crypto.Encoding;

/// <summary>Lowercase hexadecimal, the form PROTOCOL.md uses for nonces, session ids and HSM kids.</summary>
public static class Hex
{
    public static string Encode(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(data);

    public static byte[] Decode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)) text = text[2..];
        return Convert.FromHexString(text);
    }

    /// <summary>True when <paramref name="text"/> is exactly <paramref name="byteLength"/> bytes of lowercase hex.</summary>
    public static bool IsLowerHex(string? text, int byteLength)
    {
        if (text is null || text.Length != byteLength * 2) return false;
        foreach (var c in text)
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
        return true;
    }
}
