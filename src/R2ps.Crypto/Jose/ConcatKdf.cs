using System.Buffers.Binary;
using System.Security.Cryptography;

namespace R2ps.Crypto.Jose;

/// <summary>
/// The Concat KDF of RFC 7518 §4.6.2 (NIST SP 800-56A single-step KDF with SHA-256):
/// key = leftmost keydatalen bits of SHA-256(counter ‖ Z ‖ OtherInfo) over counter = 1, 2, …, where
/// OtherInfo = AlgorithmID ‖ PartyUInfo ‖ PartyVInfo ‖ SuppPubInfo, the first three as 32-bit big-endian length ‖ data,
/// SuppPubInfo = keydatalen as 32-bit big-endian, SuppPrivInfo empty.
/// </summary>
public static class ConcatKdf
{
    /// <summary>Largest supported output; JOSE needs at most 512 bits (A256CBC-HS512).</summary>
    public const int MaxKeyDataLengthBits = 8192;

    private const int HashLength = 32;

    /// <summary>
    /// Derives <paramref name="keyDataLengthBits"/> bits. For direct ECDH-ES, <paramref name="algorithmId"/> is the
    /// ASCII of the <c>enc</c> value and the party infos are the decoded <c>apu</c>/<c>apv</c> (empty when absent).
    /// </summary>
    public static byte[] DeriveKey(
        ReadOnlySpan<byte> sharedSecret,
        int keyDataLengthBits,
        ReadOnlySpan<byte> algorithmId,
        ReadOnlySpan<byte> partyUInfo,
        ReadOnlySpan<byte> partyVInfo)
    {
        if (keyDataLengthBits <= 0 || keyDataLengthBits % 8 != 0 || keyDataLengthBits > MaxKeyDataLengthBits)
            throw new ArgumentOutOfRangeException(nameof(keyDataLengthBits), $"Key length must be a positive multiple of 8 bits up to {MaxKeyDataLengthBits}.");
        if (sharedSecret.IsEmpty) throw new ArgumentException("The shared secret is empty.", nameof(sharedSecret));

        var otherInfo = OtherInfo(algorithmId, partyUInfo, partyVInfo, keyDataLengthBits);
        var keyLength = keyDataLengthBits / 8;
        var key = new byte[keyLength];
        // One buffer for counter ‖ Z ‖ OtherInfo; it holds Z, so it is zeroed afterwards.
        var input = new byte[4 + sharedSecret.Length + otherInfo.Length];
        Span<byte> block = stackalloc byte[HashLength];
        try
        {
            sharedSecret.CopyTo(input.AsSpan(4));
            otherInfo.CopyTo(input.AsSpan(4 + sharedSecret.Length));
            var written = 0;
            for (uint counter = 1; written < keyLength; counter++)
            {
                BinaryPrimitives.WriteUInt32BigEndian(input, counter);
                SHA256.HashData(input, block);
                var take = Math.Min(HashLength, keyLength - written);
                block[..take].CopyTo(key.AsSpan(written));
                written += take;
            }
            return key;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(input);
            CryptographicOperations.ZeroMemory(block);
        }
    }

    /// <summary>The JWE form: AlgorithmID = ASCII of <paramref name="algorithmId"/> (the enc value for direct ECDH-ES).</summary>
    public static byte[] DeriveKey(ReadOnlySpan<byte> sharedSecret, int keyDataLengthBits, string algorithmId, ReadOnlySpan<byte> partyUInfo = default, ReadOnlySpan<byte> partyVInfo = default)
    {
        ArgumentNullException.ThrowIfNull(algorithmId);
        return DeriveKey(sharedSecret, keyDataLengthBits, CompactSerialization.Ascii(algorithmId), partyUInfo, partyVInfo);
    }

    /// <summary>AlgorithmID ‖ PartyUInfo ‖ PartyVInfo ‖ SuppPubInfo as RFC 7518 §4.6.2 defines them.</summary>
    public static byte[] OtherInfo(ReadOnlySpan<byte> algorithmId, ReadOnlySpan<byte> partyUInfo, ReadOnlySpan<byte> partyVInfo, int keyDataLengthBits)
    {
        var result = new byte[4 + algorithmId.Length + 4 + partyUInfo.Length + 4 + partyVInfo.Length + 4];
        var offset = WriteLengthPrefixed(result, 0, algorithmId);
        offset = WriteLengthPrefixed(result, offset, partyUInfo);
        offset = WriteLengthPrefixed(result, offset, partyVInfo);
        BinaryPrimitives.WriteInt32BigEndian(result.AsSpan(offset), keyDataLengthBits);
        return result;
    }

    private static int WriteLengthPrefixed(byte[] destination, int offset, ReadOnlySpan<byte> data)
    {
        BinaryPrimitives.WriteInt32BigEndian(destination.AsSpan(offset), data.Length);
        data.CopyTo(destination.AsSpan(offset + 4));
        return offset + 4 + data.Length;
    }
}
