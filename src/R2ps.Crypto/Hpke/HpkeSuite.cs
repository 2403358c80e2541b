using System.Security.Cryptography;
using R2ps.Crypto.Ec;
using R2ps.Crypto.Keys;

namespace R2ps.Crypto.Hpke;

/// <summary>Result of the single-shot Seal APIs (RFC 9180 §6.1): the encapsulated key and ciphertext‖tag.</summary>
public sealed record HpkeSealedMessage(byte[] Enc, byte[] Ciphertext);

/// <summary>
/// An HPKE ciphersuite (RFC 9180): DHKEM(P-256, HKDF-SHA256) with HKDF-SHA256 and AES-128-GCM, AES-256-GCM or the
/// export-only AEAD; modes base and auth. Senders get a fresh ephemeral key for every setup.
/// </summary>
public sealed class HpkeSuite
{
    /// <summary>Bound on info and exporter_context, far above any protocol use (the RFC asks for at least 64 bytes).</summary>
    public const int MaxInfoLength = 64 * 1024;

    public static readonly HpkeSuite P256Sha256Aes128Gcm = new(HpkeAead.Aes128Gcm);

    /// <summary>The suite of the BFF device-session layer (PROTOCOL.md 2.1).</summary>
    public static readonly HpkeSuite P256Sha256Aes256Gcm = new(HpkeAead.Aes256Gcm);

    public static readonly HpkeSuite P256Sha256ExportOnly = new(HpkeAead.ExportOnly);

    private readonly byte[] _suiteId;

    private HpkeSuite(HpkeAead aead)
    {
        Aead = aead;
        _suiteId = HpkeLabeledKdf.HpkeSuiteId(Kem, Kdf, aead);
        (KeyLength, NonceLength) = aead switch
        {
            HpkeAead.Aes128Gcm => (16, 12),
            HpkeAead.Aes256Gcm => (32, 12),
            _ => (0, 0),
        };
    }

    public HpkeKem Kem => HpkeKem.DhkemP256HkdfSha256;

    public HpkeKdf Kdf => HpkeKdf.HkdfSha256;

    public HpkeAead Aead { get; }

    /// <summary>Nk: AEAD key bytes (0 for export-only).</summary>
    public int KeyLength { get; }

    /// <summary>Nn: AEAD nonce bytes (0 for export-only).</summary>
    public int NonceLength { get; }

    /// <summary>"HPKE" || kem_id || kdf_id || aead_id, the key schedule's domain separator.</summary>
    internal ReadOnlySpan<byte> SuiteId => _suiteId;

    /// <summary>The suite with these RFC 9180 identifiers.</summary>
    /// <exception cref="HpkeException"><see cref="HpkeError.UnsupportedAlgorithm"/> for any identifier not implemented.</exception>
    public static HpkeSuite FromIds(ushort kemId, ushort kdfId, ushort aeadId)
    {
        if (kemId != (ushort)HpkeKem.DhkemP256HkdfSha256)
            throw new HpkeException(HpkeError.UnsupportedAlgorithm, $"HPKE KEM 0x{kemId:x4} is not supported; only DHKEM(P-256, HKDF-SHA256) 0x0010 is.");
        if (kdfId != (ushort)HpkeKdf.HkdfSha256)
            throw new HpkeException(HpkeError.UnsupportedAlgorithm, $"HPKE KDF 0x{kdfId:x4} is not supported; only HKDF-SHA256 0x0001 is.");
        return aeadId switch
        {
            (ushort)HpkeAead.Aes128Gcm => P256Sha256Aes128Gcm,
            (ushort)HpkeAead.Aes256Gcm => P256Sha256Aes256Gcm,
            (ushort)HpkeAead.ExportOnly => P256Sha256ExportOnly,
            _ => throw new HpkeException(HpkeError.UnsupportedAlgorithm, $"HPKE AEAD 0x{aeadId:x4} is not supported; AES-128-GCM 0x0001, AES-256-GCM 0x0002 and export-only 0xFFFF are."),
        };
    }

    /// <summary>SetupBaseS (RFC 9180 §5.1.1) with a fresh ephemeral key.</summary>
    public HpkeSenderContext SetupBaseS(EcPublicKey pkR, ReadOnlySpan<byte> info)
    {
        using var ephemeral = SoftwareEcKey.Generate(EcCurve.P256);
        return SetupBaseS(pkR, info, ephemeral);
    }

    /// <summary>SetupBaseS with a chosen ephemeral key: only for known-answer tests, never for real messages.</summary>
    internal HpkeSenderContext SetupBaseS(EcPublicKey pkR, ReadOnlySpan<byte> info, IEcPrivateKey ephemeral)
    {
        var (sharedSecret, enc) = DhkemP256.Encap(pkR, ephemeral);
        return SenderContext(HpkeMode.Base, sharedSecret, enc, info);
    }

    /// <summary>SetupBaseR (RFC 9180 §5.1.1). <paramref name="enc"/> is validated strictly (65 bytes, on P-256).</summary>
    public HpkeRecipientContext SetupBaseR(ReadOnlySpan<byte> enc, IEcPrivateKey skR, ReadOnlySpan<byte> info)
    {
        var sharedSecret = DhkemP256.Decap(enc, skR);
        return RecipientContext(HpkeMode.Base, sharedSecret, info);
    }

    /// <summary>SetupAuthS (RFC 9180 §5.1.3) with a fresh ephemeral key; <paramref name="skS"/> authenticates the sender.</summary>
    public HpkeSenderContext SetupAuthS(EcPublicKey pkR, ReadOnlySpan<byte> info, IEcPrivateKey skS)
    {
        using var ephemeral = SoftwareEcKey.Generate(EcCurve.P256);
        return SetupAuthS(pkR, info, skS, ephemeral);
    }

    /// <summary>SetupAuthS with a chosen ephemeral key: only for known-answer tests, never for real messages.</summary>
    internal HpkeSenderContext SetupAuthS(EcPublicKey pkR, ReadOnlySpan<byte> info, IEcPrivateKey skS, IEcPrivateKey ephemeral)
    {
        var (sharedSecret, enc) = DhkemP256.AuthEncap(pkR, skS, ephemeral);
        return SenderContext(HpkeMode.Auth, sharedSecret, enc, info);
    }

    /// <summary>SetupAuthR (RFC 9180 §5.1.3): opens only what the holder of <paramref name="pkS"/>'s private key sealed.</summary>
    public HpkeRecipientContext SetupAuthR(ReadOnlySpan<byte> enc, IEcPrivateKey skR, ReadOnlySpan<byte> info, EcPublicKey pkS)
    {
        var sharedSecret = DhkemP256.AuthDecap(enc, skR, pkS);
        return RecipientContext(HpkeMode.Auth, sharedSecret, info);
    }

    /// <summary>Single-shot SealBase (RFC 9180 §6.1).</summary>
    public HpkeSealedMessage SealBase(EcPublicKey pkR, ReadOnlySpan<byte> info, ReadOnlySpan<byte> aad, ReadOnlySpan<byte> plaintext)
    {
        using var context = SetupBaseS(pkR, info);
        return new HpkeSealedMessage(context.Enc, context.Seal(plaintext, aad));
    }

    /// <summary>Single-shot OpenBase (RFC 9180 §6.1).</summary>
    public byte[] OpenBase(ReadOnlySpan<byte> enc, IEcPrivateKey skR, ReadOnlySpan<byte> info, ReadOnlySpan<byte> aad, ReadOnlySpan<byte> ciphertext)
    {
        using var context = SetupBaseR(enc, skR, info);
        return context.Open(ciphertext, aad);
    }

    /// <summary>Single-shot SealAuth (RFC 9180 §6.1).</summary>
    public HpkeSealedMessage SealAuth(EcPublicKey pkR, ReadOnlySpan<byte> info, ReadOnlySpan<byte> aad, ReadOnlySpan<byte> plaintext, IEcPrivateKey skS)
    {
        using var context = SetupAuthS(pkR, info, skS);
        return new HpkeSealedMessage(context.Enc, context.Seal(plaintext, aad));
    }

    /// <summary>Single-shot OpenAuth (RFC 9180 §6.1).</summary>
    public byte[] OpenAuth(ReadOnlySpan<byte> enc, IEcPrivateKey skR, ReadOnlySpan<byte> info, ReadOnlySpan<byte> aad, ReadOnlySpan<byte> ciphertext, EcPublicKey pkS)
    {
        using var context = SetupAuthR(enc, skR, info, pkS);
        return context.Open(ciphertext, aad);
    }

    public override string ToString() => $"DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, {AeadName(Aead)}";

    private static string AeadName(HpkeAead aead) => aead switch
    {
        HpkeAead.Aes128Gcm => "AES-128-GCM",
        HpkeAead.Aes256Gcm => "AES-256-GCM",
        _ => "Export-only",
    };

    /// <summary>KeyScheduleS / KeyScheduleR share one body: the roles differ only in which of Seal/Open they call.</summary>
    internal HpkeKeySchedule KeySchedule(HpkeMode mode, byte[] sharedSecret, ReadOnlySpan<byte> info)
    {
        try
        {
            return HpkeKeySchedule.Derive(this, mode, sharedSecret, info);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(sharedSecret);
        }
    }

    private HpkeSenderContext SenderContext(HpkeMode mode, byte[] sharedSecret, byte[] enc, ReadOnlySpan<byte> info)
    {
        using var schedule = KeySchedule(mode, sharedSecret, info);
        return new HpkeSenderContext(this, enc, new HpkeContextCore(this, schedule));
    }

    private HpkeRecipientContext RecipientContext(HpkeMode mode, byte[] sharedSecret, ReadOnlySpan<byte> info)
    {
        using var schedule = KeySchedule(mode, sharedSecret, info);
        return new HpkeRecipientContext(this, new HpkeContextCore(this, schedule));
    }
}
