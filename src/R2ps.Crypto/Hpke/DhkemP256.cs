using System.Security.Cryptography;
using R2ps.Crypto.Ec;
using R2ps.Crypto.Keys;

namespace R2ps.Crypto.Hpke;

/// <summary>
/// DHKEM(P-256, HKDF-SHA256), KEM id 0x0010 (RFC 9180 §4.1, §7.1). Private keys are <see cref="IEcPrivateKey"/> so the
/// recipient's (and the auth-mode sender's) static key can live in an HSM: DH is the x-coordinate of the shared point
/// (§7.1.1), which is what <see cref="IEcPrivateKey.DeriveSharedSecret"/> returns.
/// </summary>
public static class DhkemP256
{
    /// <summary>Nsecret: bytes of the KEM shared secret.</summary>
    public const int SharedSecretLength = 32;

    /// <summary>Nenc = Npk: an uncompressed SEC1 point.</summary>
    public const int EncapsulatedKeyLength = 65;

    /// <summary>Nsk: bytes of a serialized private key.</summary>
    public const int PrivateKeyLength = 32;

    /// <summary>DeriveKeyPair's bitmask for P-256 (RFC 9180 §7.1.3): no bits are cleared before the range check.</summary>
    private const byte CandidateBitmask = 0xFF;

    private static readonly byte[] SuiteId = HpkeLabeledKdf.KemSuiteId(HpkeKem.DhkemP256HkdfSha256);

    private static EcCurve Curve => EcCurve.P256;

    /// <summary>
    /// DeriveKeyPair (RFC 9180 §7.1.3): rejection sampling over LabeledExpand(dkp_prk, "candidate", counter). Input of
    /// fewer than Nsk bytes is refused, as the RFC requires at least Nsk bytes of entropy.
    /// </summary>
    public static SoftwareEcKey DeriveKeyPair(ReadOnlySpan<byte> ikm)
    {
        var scalar = DerivePrivateScalar(ikm);
        try
        {
            return SoftwareEcKey.FromPrivateScalar(Curve, scalar);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(scalar);
        }
    }

    /// <summary>SerializePublicKey: the 65-byte uncompressed point.</summary>
    public static byte[] SerializePublicKey(EcPublicKey key)
    {
        RequireP256(key, "public key");
        return key.ToUncompressed();
    }

    /// <summary>
    /// DeserializePublicKey, strictly: exactly 65 bytes, prefix 0x04, coordinates below p, on the curve (never
    /// infinity, which has no 65-byte form). Compressed points are refused: HPKE's Npk for P-256 is 65.
    /// </summary>
    public static EcPublicKey DeserializePublicKey(ReadOnlySpan<byte> encoded)
    {
        if (encoded.Length != EncapsulatedKeyLength)
            throw new HpkeException(HpkeError.InvalidEncapsulatedKey, $"A P-256 HPKE public key is {EncapsulatedKeyLength} bytes, not {encoded.Length}.");
        if (encoded[0] != 0x04)
            throw new HpkeException(HpkeError.InvalidEncapsulatedKey, "A P-256 HPKE public key must be an uncompressed point (prefix 0x04).");
        if (!Curve.TryDecodePoint(encoded, out var point))
            throw new HpkeException(HpkeError.InvalidEncapsulatedKey, "The P-256 HPKE public key is not a point on the curve.");
        return new EcPublicKey(Curve, point);
    }

    /// <summary>The scalar bytes of DeriveKeyPair (SerializePrivateKey form); the caller zeroes them.</summary>
    internal static byte[] DerivePrivateScalar(ReadOnlySpan<byte> ikm)
    {
        if (ikm.Length < PrivateKeyLength)
            throw new HpkeException(HpkeError.DeriveKeyPairFailed, $"DeriveKeyPair needs at least {PrivateKeyLength} bytes of input keying material.");

        var dkpPrk = HpkeLabeledKdf.LabeledExtract(SuiteId, [], "dkp_prk"u8, ikm);
        try
        {
            for (var counter = 0; counter <= byte.MaxValue; counter++)
            {
                var candidate = HpkeLabeledKdf.LabeledExpand(SuiteId, dkpPrk, "candidate"u8, [(byte)counter], PrivateKeyLength);
                candidate[0] &= CandidateBitmask;
                if (Curve.TryDecodeScalar(candidate, out _)) return candidate;
                CryptographicOperations.ZeroMemory(candidate);
            }
            throw new HpkeException(HpkeError.DeriveKeyPairFailed, "DeriveKeyPair found no valid P-256 scalar in 256 candidates.");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dkpPrk);
        }
    }

    /// <summary>Encap with a given ephemeral key (RFC 9180 §4.1). Returns the shared secret (caller zeroes) and enc.</summary>
    internal static (byte[] SharedSecret, byte[] Enc) Encap(EcPublicKey pkR, IEcPrivateKey ephemeral)
    {
        RequireP256(pkR, "recipient public key");
        RequireP256(ephemeral, "ephemeral key");
        var enc = ephemeral.PublicKey.ToUncompressed();
        var dh = Dh(ephemeral, pkR);
        return (ExtractAndExpand(dh, [.. enc, .. pkR.ToUncompressed()]), enc);
    }

    /// <summary>AuthEncap (RFC 9180 §4.1): dh = DH(skE, pkR) || DH(skS, pkR); kem_context = enc || pkRm || pkSm.</summary>
    internal static (byte[] SharedSecret, byte[] Enc) AuthEncap(EcPublicKey pkR, IEcPrivateKey skS, IEcPrivateKey ephemeral)
    {
        RequireP256(pkR, "recipient public key");
        RequireP256(skS, "sender key");
        RequireP256(ephemeral, "ephemeral key");
        var enc = ephemeral.PublicKey.ToUncompressed();
        var dh = DhPair(ephemeral, pkR, skS, pkR);
        return (ExtractAndExpand(dh, [.. enc, .. pkR.ToUncompressed(), .. skS.PublicKey.ToUncompressed()]), enc);
    }

    internal static byte[] Decap(ReadOnlySpan<byte> enc, IEcPrivateKey skR)
    {
        RequireP256(skR, "recipient key");
        var pkE = DeserializePublicKey(enc);
        var dh = Dh(skR, pkE);
        return ExtractAndExpand(dh, [.. enc, .. skR.PublicKey.ToUncompressed()]);
    }

    internal static byte[] AuthDecap(ReadOnlySpan<byte> enc, IEcPrivateKey skR, EcPublicKey pkS)
    {
        RequireP256(skR, "recipient key");
        RequireP256(pkS, "sender public key");
        var pkE = DeserializePublicKey(enc);
        var dh = DhPair(skR, pkE, skR, pkS);
        return ExtractAndExpand(dh, [.. enc, .. skR.PublicKey.ToUncompressed(), .. pkS.ToUncompressed()]);
    }

    internal static void RequireP256(EcPublicKey key, string role)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!ReferenceEquals(key.Curve, Curve))
            throw new HpkeException(HpkeError.InvalidKey, $"The HPKE {role} is on {key.Curve.Name}; DHKEM(P-256) needs a P-256 key.");
    }

    internal static void RequireP256(IEcPrivateKey key, string role)
    {
        ArgumentNullException.ThrowIfNull(key);
        RequireP256(key.PublicKey, role);
    }

    /// <summary>ExtractAndExpand (RFC 9180 §4.1); zeroes <paramref name="dh"/>.</summary>
    private static byte[] ExtractAndExpand(byte[] dh, ReadOnlySpan<byte> kemContext)
    {
        byte[]? eaePrk = null;
        try
        {
            eaePrk = HpkeLabeledKdf.LabeledExtract(SuiteId, [], "eae_prk"u8, dh);
            return HpkeLabeledKdf.LabeledExpand(SuiteId, eaePrk, "shared_secret"u8, kemContext, SharedSecretLength);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dh);
            if (eaePrk is not null) CryptographicOperations.ZeroMemory(eaePrk);
        }
    }

    private static byte[] Dh(IEcPrivateKey key, EcPublicKey peer)
    {
        var z = key.DeriveSharedSecret(peer);
        if (z.Length != Curve.FieldSize)
        {
            CryptographicOperations.ZeroMemory(z);
            throw new HpkeException(HpkeError.InvalidKey, $"The private key returned a {z.Length}-byte DH output; P-256 needs {Curve.FieldSize}.");
        }
        return z;
    }

    /// <summary>DH(first) || DH(second), the auth-mode dh; the two halves are zeroed whatever happens.</summary>
    private static byte[] DhPair(IEcPrivateKey firstKey, EcPublicKey firstPeer, IEcPrivateKey secondKey, EcPublicKey secondPeer)
    {
        var first = Dh(firstKey, firstPeer);
        try
        {
            var second = Dh(secondKey, secondPeer);
            try
            {
                return [.. first, .. second];
            }
            finally
            {
                CryptographicOperations.ZeroMemory(second);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(first);
        }
    }
}
