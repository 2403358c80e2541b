using System.Security.Cryptography;

namespace R2ps.Sessions;

/// <summary>
/// The two names of a sign session: the wire id <c>pake_session_id</c> (64 lowercase hex = 32 random bytes,
/// PROTOCOL.md 1.1/1.5) and the saga's correlation id, a Guid made of the first 16 of those bytes.
/// </summary>
public static class SignSessionIds
{
    /// <summary>Characters in a <c>pake_session_id</c>.</summary>
    public const int PakeSessionIdLength = 64;

    /// <summary>A fresh <c>pake_session_id</c> from 32 bytes of the system CSPRNG.</summary>
    public static string NewPakeSessionId()
    {
        Span<byte> bytes = stackalloc byte[PakeSessionIdLength / 2];
        RandomNumberGenerator.Fill(bytes);
        return Convert.ToHexStringLower(bytes);
    }

    /// <summary>True when <paramref name="value"/> is exactly 64 lowercase hex characters.</summary>
    public static bool IsValidPakeSessionId(string? value)
    {
        if (value is null || value.Length != PakeSessionIdLength)
            return false;
        foreach (var c in value)
        {
            if (!char.IsAsciiDigit(c) && c is not (>= 'a' and <= 'f'))
                return false;
        }

        return true;
    }

    /// <summary>The saga correlation id of a <c>pake_session_id</c>: its first 16 bytes as a Guid.</summary>
    /// <exception cref="ArgumentException">The value is not 64 lowercase hex characters.</exception>
    public static Guid ToSessionId(string pakeSessionId)
    {
        if (!IsValidPakeSessionId(pakeSessionId))
            throw new ArgumentException($"A pake_session_id is {PakeSessionIdLength} lowercase hex characters.", nameof(pakeSessionId));

        Span<byte> prefix = stackalloc byte[16];
        Convert.FromHexString(pakeSessionId.AsSpan(0, 32), prefix, out _, out _);
        return new Guid(prefix);
    }
}
