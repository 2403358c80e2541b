using System.Security.Cryptography;

namespace R2ps.Crypto.Hpke;

/// <summary>
/// LabeledExtract and LabeledExpand over HKDF-SHA256 (RFC 9180 §4), the only KDF offered. The suite id separates the
/// KEM's uses ("KEM" || kem_id) from the key schedule's ("HPKE" || kem_id || kdf_id || aead_id).
/// </summary>
internal static class HpkeLabeledKdf
{
    /// <summary>Nh of HKDF-SHA256.</summary>
    public const int HashLength = 32;

    /// <summary>LabeledExpand's L is at most 255·Nh (RFC 5869 §2.3).</summary>
    public const int MaxExpandLength = 255 * HashLength;

    private static ReadOnlySpan<byte> Version => "HPKE-v1"u8;

    public static byte[] KemSuiteId(HpkeKem kem) => [.. "KEM"u8, .. I2Osp2((ushort)kem)];

    public static byte[] HpkeSuiteId(HpkeKem kem, HpkeKdf kdf, HpkeAead aead) =>
        [.. "HPKE"u8, .. I2Osp2((ushort)kem), .. I2Osp2((ushort)kdf), .. I2Osp2((ushort)aead)];

    public static byte[] LabeledExtract(ReadOnlySpan<byte> suiteId, ReadOnlySpan<byte> salt, ReadOnlySpan<byte> label, ReadOnlySpan<byte> ikm)
    {
        byte[] labeledIkm = [.. Version, .. suiteId, .. label, .. ikm];
        try
        {
            var prk = new byte[HashLength];
            HKDF.Extract(HashAlgorithmName.SHA256, labeledIkm, salt, prk);
            return prk;
        }
        finally
        {
            // The ikm is a DH output, a shared secret or DeriveKeyPair input.
            CryptographicOperations.ZeroMemory(labeledIkm);
        }
    }

    public static byte[] LabeledExpand(ReadOnlySpan<byte> suiteId, ReadOnlySpan<byte> prk, ReadOnlySpan<byte> label, ReadOnlySpan<byte> info, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, MaxExpandLength);
        // Nk and Nn are 0 for the export-only AEAD: its key and base_nonce are empty (RFC 9180 §7.3).
        if (length == 0) return [];

        byte[] labeledInfo = [.. I2Osp2((ushort)length), .. Version, .. suiteId, .. label, .. info];
        var okm = new byte[length];
        HKDF.Expand(HashAlgorithmName.SHA256, prk, okm, labeledInfo);
        return okm;
    }

    private static byte[] I2Osp2(ushort value) => [(byte)(value >> 8), (byte)value];
}
