namespace R2ps.Protocol.Envelopes;

/// <summary>Shape rules of envelope members (PROTOCOL.md 1.1) shared by the server and client codecs.</summary>
public static class EnvelopeRules
{
    /// <summary>Characters in a <c>pake_session_id</c> (32 bytes as lowercase hex).</summary>
    public const int PakeSessionIdLength = 64;

    /// <summary>Shortest accepted nonce: 32 characters carry at least 16 bytes of entropy when hex.</summary>
    public const int MinNonceLength = 32;

    /// <summary>Longest accepted nonce; reference clients send 64.</summary>
    public const int MaxNonceLength = 128;

    /// <summary>Longest accepted <c>client_id</c>, <c>kid</c>, <c>context</c> or <c>type</c>.</summary>
    public const int MaxIdentifierLength = 512;

    /// <summary>True for exactly 64 lowercase hex characters.</summary>
    public static bool IsPakeSessionId(string? value) => IsLowerHex(value, PakeSessionIdLength);

    /// <summary>A nonce is 32–128 characters of [0-9A-Za-z_-]: hex or base64url of at least 16 random bytes.</summary>
    public static bool IsNonce(string? value)
    {
        if (value is null || value.Length is < MinNonceLength or > MaxNonceLength) return false;
        foreach (var c in value)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_')) return false;
        }
        return true;
    }

    /// <summary>Non-empty printable ASCII without spaces, at most <see cref="MaxIdentifierLength"/> characters.</summary>
    public static bool IsIdentifier(string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > MaxIdentifierLength) return false;
        foreach (var c in value)
        {
            if (c is < '!' or > '~') return false;
        }
        return true;
    }

    private static bool IsLowerHex(string? value, int length)
    {
        if (value is null || value.Length != length) return false;
        foreach (var c in value)
        {
            if (!char.IsAsciiDigit(c) && c is not (>= 'a' and <= 'f')) return false;
        }
        return true;
    }
}
