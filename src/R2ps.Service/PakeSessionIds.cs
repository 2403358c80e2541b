using System.Security.Cryptography;
using R2ps.Crypto.Encoding;
using R2ps.Protocol.Envelopes;

namespace R2ps.Service;

/// <summary>
/// <c>pake_session_id</c> values that the service can recognise as its own without keeping a record: 16 random bytes
/// followed by a 16-byte HMAC-SHA256 tag over them, under a key derived from the OPRF seed (shared by every worker),
/// as 64 lowercase hex characters. A finalize naming an id that is no longer there can then tell "issued here, since
/// expired, swept or ended" (ACCESS_DENIED) from "never issued" (ILLEGAL_STATE: finalize without evaluate) without
/// revealing anything about live sessions: the tag does not depend on the client, and nobody can forge one.
/// </summary>
internal static class PakeSessionIds
{
    private const int RandomBytes = 16;
    private const int TagBytes = 16;

    private static ReadOnlySpan<byte> KeyInfo => "r2ps/pake-session-id-mac/v1"u8;

    private static ReadOnlySpan<byte> PinChangeMarkInfo => "r2ps/pin-change-mark/v1"u8;

    public static string New(ReadOnlySpan<byte> oprfSeed)
    {
        Span<byte> id = stackalloc byte[RandomBytes + TagBytes];
        RandomNumberGenerator.Fill(id[..RandomBytes]);
        Tag(oprfSeed, id[..RandomBytes], id[RandomBytes..]);
        return Hex.Encode(id);
    }

    /// <summary>True if <paramref name="pakeSessionId"/> carries this service's tag (compared in constant time).</summary>
    public static bool WasIssued(ReadOnlySpan<byte> oprfSeed, string pakeSessionId)
    {
        if (!EnvelopeRules.IsPakeSessionId(pakeSessionId)) return false;
        var id = Hex.Decode(pakeSessionId);
        Span<byte> expected = stackalloc byte[TagBytes];
        Tag(oprfSeed, id.AsSpan(0, RandomBytes), expected);
        return CryptographicOperations.FixedTimeEquals(expected, id.AsSpan(RandomBytes, TagBytes));
    }

    /// <summary>
    /// The saga id under which a session's pin_change evaluate is recorded: HMAC-SHA256 of the session id under a key of
    /// its own derived from the OPRF seed, as 64 lowercase hex. Only the service can compute it, so no client can name it.
    /// </summary>
    public static string PinChangeMark(ReadOnlySpan<byte> oprfSeed, string pakeSessionId)
    {
        Span<byte> key = stackalloc byte[32];
        Span<byte> mac = stackalloc byte[32];
        try
        {
            HKDF.Expand(HashAlgorithmName.SHA256, oprfSeed, key, PinChangeMarkInfo);
            HMACSHA256.HashData(key, System.Text.Encoding.ASCII.GetBytes(pakeSessionId), mac);
            return Hex.Encode(mac);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
            CryptographicOperations.ZeroMemory(mac);
        }
    }

    private static void Tag(ReadOnlySpan<byte> oprfSeed, ReadOnlySpan<byte> random, Span<byte> tag)
    {
        Span<byte> key = stackalloc byte[32];
        Span<byte> mac = stackalloc byte[32];
        try
        {
            // A key of its own (HKDF with a distinct label), never the seed itself.
            HKDF.Expand(HashAlgorithmName.SHA256, oprfSeed, key, KeyInfo);
            HMACSHA256.HashData(key, random, mac);
            mac[..TagBytes].CopyTo(tag);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
            CryptographicOperations.ZeroMemory(mac);
        }
    }
}
