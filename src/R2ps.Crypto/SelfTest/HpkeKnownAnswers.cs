using System.Security.Cryptography;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Hpke;
using R2ps.Crypto.Keys;

namespace R2ps.Crypto.SelfTest;

/// <summary>
/// Start-up known answers for HPKE: the official RFC 9180 test vector "DHKEM(P-256, HKDF-SHA256), HKDF-SHA256,
/// AES-256-GCM, mode 2 (auth)" (cfrg/draft-irtf-cfrg-hpke test-vectors.json, the suite PROTOCOL.md 2.1 uses).
/// </summary>
public static class HpkeKnownAnswers
{
    private const string Vector = "RFC 9180 test vector P-256/HKDF-SHA256/AES-256-GCM mode_auth";

    private const string IkmR = "3c56756948f1c27aed3eb27a923c891dc073eccf94bb6c1b64a8bfaa95f1f8f7";
    private const string IkmS = "0f3def8cc45967f86c566f2c2a7decedff0d5f8b20a34ab65318144c80cb6b2b";
    private const string IkmE = "d6c49e442aad90bcc1bc0d166e5c4d3df845c803ba08b8a4d891af2eeae4f97e";
    private const string Enc = "04a7aeac79fda402674ef247c12d6f5fdfd21498d896b67ff04ec181382d4516b7"
        + "662be32b4a2ae817c2d57104ecb6fcaa527438939810612d1b3d0af36ffc66ce";
    private const string SharedSecret = "4b6e403bf494c60342caaa46b3738ee0423892720751607338034b0a067cc1db";
    private const string Key = "640064834667025be3ce7abf1eb42ccc0dea2db9782b9823519f474e054524e7";
    private const string BaseNonce = "29240057274f71e55bfcca28";
    private const string ExporterSecret = "5b03fe338463543c9d4b195ef8f9c5a914a7503a2a490efc6b6a466f5f85f306";
    private const string Seq0Ciphertext = "59b9890aabf94c1d502c39d8d356989ab0880ed43e984255db7b32a8d7b0ad5beba799a4ec326a0ddca3dd5e5d";
    private const string ExportEmptyContext32 = "6c0386ae15b1b834a5247ca5595b4e102347cbcdc65de64832f36008ce9c9483";

    private static ReadOnlySpan<byte> Info => "Ode on a Grecian Urn"u8;

    private static ReadOnlySpan<byte> Seq0Plaintext => "Beauty is truth, truth beauty"u8;

    private static ReadOnlySpan<byte> Seq0Aad => "Count-0"u8;

    public static IEnumerable<(string Name, Action Check)> Checks()
    {
        yield return ("HPKE P-256 mode_auth key schedule", KeySchedule);
        yield return ("HPKE P-256 mode_auth AES-256-GCM seal and open", FirstEncryption);
        yield return ("HPKE P-256 mode_auth export", Export);
    }

    private static void KeySchedule()
    {
        using var keys = VectorKeys.Derive();
        var (sharedSecret, enc) = DhkemP256.AuthEncap(keys.Recipient.PublicKey, keys.Sender, keys.Ephemeral);
        try
        {
            Expect("enc", Enc, enc);
            Expect("shared_secret", SharedSecret, sharedSecret);
            using var schedule = HpkeKeySchedule.Derive(HpkeSuite.P256Sha256Aes256Gcm, HpkeMode.Auth, sharedSecret, Info);
            Expect("key", Key, schedule.Key);
            Expect("base_nonce", BaseNonce, schedule.BaseNonce);
            Expect("exporter_secret", ExporterSecret, schedule.ExporterSecret);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(sharedSecret);
        }
    }

    private static void FirstEncryption()
    {
        using var keys = VectorKeys.Derive();
        using var sender = HpkeSuite.P256Sha256Aes256Gcm.SetupAuthS(keys.Recipient.PublicKey, Info, keys.Sender, keys.Ephemeral);
        Expect("sequence 0 ciphertext", Seq0Ciphertext, sender.Seal(Seq0Plaintext, Seq0Aad));

        using var recipient = HpkeSuite.P256Sha256Aes256Gcm.SetupAuthR(Hex.Decode(Enc), keys.Recipient, Info, keys.Sender.PublicKey);
        if (!recipient.Open(Hex.Decode(Seq0Ciphertext), Seq0Aad).AsSpan().SequenceEqual(Seq0Plaintext))
            throw new CryptographicException($"{Vector}: sequence 0 opened to the wrong plaintext.");
    }

    private static void Export()
    {
        using var keys = VectorKeys.Derive();
        using var recipient = HpkeSuite.P256Sha256Aes256Gcm.SetupAuthR(Hex.Decode(Enc), keys.Recipient, Info, keys.Sender.PublicKey);
        Expect("export(\"\", 32)", ExportEmptyContext32, recipient.Export([], 32));
    }

    private static void Expect(string what, string expectedHex, ReadOnlySpan<byte> actual)
    {
        if (!actual.SequenceEqual(Hex.Decode(expectedHex)))
            throw new CryptographicException($"{Vector}: {what} does not match the known answer.");
    }

    /// <summary>skR, skS and skE from the vector's ikm through DeriveKeyPair, so the self-test covers it too.</summary>
    private sealed class VectorKeys : IDisposable
    {
        private VectorKeys(SoftwareEcKey recipient, SoftwareEcKey sender, SoftwareEcKey ephemeral)
        {
            Recipient = recipient;
            Sender = sender;
            Ephemeral = ephemeral;
        }

        public SoftwareEcKey Recipient { get; }

        public SoftwareEcKey Sender { get; }

        public SoftwareEcKey Ephemeral { get; }

        public static VectorKeys Derive() => new(
            DhkemP256.DeriveKeyPair(Hex.Decode(IkmR)),
            DhkemP256.DeriveKeyPair(Hex.Decode(IkmS)),
            DhkemP256.DeriveKeyPair(Hex.Decode(IkmE)));

        public void Dispose()
        {
            Recipient.Dispose();
            Sender.Dispose();
            Ephemeral.Dispose();
        }
    }
}
