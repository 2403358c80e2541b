using R2ps.Crypto.Ec;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Hpke;
using R2ps.Crypto.Keys;

namespace R2ps.Crypto.Tests.Hpke;

/// <summary>Attacks and misuse the HPKE layer must refuse, and round trips with fresh keys.</summary>
public class HpkeTests
{
    private static readonly HpkeTestVector Auth = HpkeRfcVectors.A33Auth; // RFC 9180 App. A.3.3
    private static readonly byte[] Info = Hex.Decode(Auth.Info);

    // RFC 9180 App. A.3.3, sequence 0.
    private static readonly byte[] Seq0Ciphertext =
        Hex.Decode("82ffc8c44760db691a07c5627e5fc2c08e7a86979ee79b494a17cc3405446ac2bdb8f265db4a099ed3289ffe19");
    private static readonly byte[] Seq0Aad = Hex.Decode("436f756e742d30"); // "Count-0"
    private static readonly byte[] Seq0Plaintext = Hex.Decode("4265617574792069732074727574682c20747275746820626561757479");

    [Fact]
    public void Open_with_a_flipped_ciphertext_bit_fails_and_does_not_advance_the_sequence()
    {
        using var keys = AuthVectorKeys.Derive();
        using var recipient = keys.Recipient();
        for (var bit = 0; bit < Seq0Ciphertext.Length * 8; bit += 37)
        {
            var tampered = (byte[])Seq0Ciphertext.Clone();
            tampered[bit / 8] ^= (byte)(1 << (bit % 8));
            var error = Assert.Throws<HpkeException>(() => recipient.Open(tampered, Seq0Aad));
            Assert.Equal(HpkeError.OpenFailed, error.Error);
        }
        Assert.Equal(0UL, recipient.SequenceNumber);
        Assert.Equal(Seq0Plaintext, recipient.Open(Seq0Ciphertext, Seq0Aad));
    }

    [Fact]
    public void Open_with_a_flipped_tag_bit_fails()
    {
        using var keys = AuthVectorKeys.Derive();
        using var recipient = keys.Recipient();
        var tampered = (byte[])Seq0Ciphertext.Clone();
        tampered[^1] ^= 0x80;
        Assert.Equal(HpkeError.OpenFailed, Assert.Throws<HpkeException>(() => recipient.Open(tampered, Seq0Aad)).Error);
    }

    [Fact]
    public void Open_of_a_ciphertext_shorter_than_the_tag_fails()
    {
        using var keys = AuthVectorKeys.Derive();
        using var recipient = keys.Recipient();
        Assert.Equal(HpkeError.OpenFailed, Assert.Throws<HpkeException>(() => recipient.Open(Seq0Ciphertext.AsSpan(0, 15), Seq0Aad)).Error);
    }

    [Fact]
    public void Open_with_wrong_aad_fails()
    {
        using var keys = AuthVectorKeys.Derive();
        using var recipient = keys.Recipient();
        Assert.Equal(HpkeError.OpenFailed, Assert.Throws<HpkeException>(() => recipient.Open(Seq0Ciphertext, "Count-1"u8)).Error);
        Assert.Equal(HpkeError.OpenFailed, Assert.Throws<HpkeException>(() => recipient.Open(Seq0Ciphertext, [])).Error);
    }

    [Fact]
    public void Open_out_of_order_fails_because_the_nonce_is_bound_to_the_sequence()
    {
        using var keys = AuthVectorKeys.Derive();
        using var recipient = keys.Recipient();
        recipient.SequenceNumber = 1;
        Assert.Equal(HpkeError.OpenFailed, Assert.Throws<HpkeException>(() => recipient.Open(Seq0Ciphertext, Seq0Aad)).Error);
    }

    [Fact]
    public void Auth_open_with_a_wrong_sender_key_fails()
    {
        using var keys = AuthVectorKeys.Derive();
        using var impostor = SoftwareEcKey.Generate(EcCurve.P256);
        using var recipient = HpkeSuite.P256Sha256Aes128Gcm.SetupAuthR(Hex.Decode(Auth.Enc), keys.R, Info, impostor.PublicKey);
        Assert.Equal(HpkeError.OpenFailed, Assert.Throws<HpkeException>(() => recipient.Open(Seq0Ciphertext, Seq0Aad)).Error);
    }

    [Fact]
    public void Auth_message_does_not_open_in_base_mode()
    {
        using var keys = AuthVectorKeys.Derive();
        using var recipient = HpkeSuite.P256Sha256Aes128Gcm.SetupBaseR(Hex.Decode(Auth.Enc), keys.R, Info);
        Assert.Equal(HpkeError.OpenFailed, Assert.Throws<HpkeException>(() => recipient.Open(Seq0Ciphertext, Seq0Aad)).Error);
    }

    [Fact]
    public void Open_with_another_info_fails()
    {
        using var keys = AuthVectorKeys.Derive();
        using var recipient = HpkeSuite.P256Sha256Aes128Gcm.SetupAuthR(Hex.Decode(Auth.Enc), keys.R, "Ode on a Grecian Urn!"u8, keys.S.PublicKey);
        Assert.Equal(HpkeError.OpenFailed, Assert.Throws<HpkeException>(() => recipient.Open(Seq0Ciphertext, Seq0Aad)).Error);
    }

    [Fact]
    public void Enc_not_on_the_curve_is_rejected()
    {
        using var keys = AuthVectorKeys.Derive();
        var offCurve = Hex.Decode(Auth.Enc);
        offCurve[^1] ^= 1; // y + 1 (or - 1): no longer satisfies the curve equation
        var error = Assert.Throws<HpkeException>(() => HpkeSuite.P256Sha256Aes128Gcm.SetupAuthR(offCurve, keys.R, Info, keys.S.PublicKey));
        Assert.Equal(HpkeError.InvalidEncapsulatedKey, error.Error);
        Assert.Equal(HpkeError.InvalidEncapsulatedKey,
            Assert.Throws<HpkeException>(() => HpkeSuite.P256Sha256Aes128Gcm.SetupBaseR(offCurve, keys.R, Info)).Error);
    }

    public static TheoryData<string> MalformedEncs() => new()
    {
        "", // empty
        "00", // SEC1 encoding of the point at infinity
        "04" + new string('0', 128), // 0x04 || zeros: (0, 0) is not on P-256
        // The vector's enc compressed (33 bytes): valid SEC1, but Npk for DHKEM(P-256) is 65.
        "022224f3ea800f7ec55c03f29fc9865f6ee27004f818fcbdc6dc68932c1e52e15b",
        // Hybrid prefix 0x06 with the vector's coordinates.
        "062224f3ea800f7ec55c03f29fc9865f6ee27004f818fcbdc6dc68932c1e52e15b79e264a98f2c535ef06745f3d308624414153b22c7332bc1e691cb4af4d53454",
        // x = p (not a field element), y from the vector.
        "04ffffffff00000001000000000000000000000000ffffffffffffffffffffffff79e264a98f2c535ef06745f3d308624414153b22c7332bc1e691cb4af4d53454",
        // One byte too long.
        "042224f3ea800f7ec55c03f29fc9865f6ee27004f818fcbdc6dc68932c1e52e15b79e264a98f2c535ef06745f3d308624414153b22c7332bc1e691cb4af4d5345400",
    };

    [Theory]
    [MemberData(nameof(MalformedEncs))]
    public void Malformed_enc_is_rejected_before_any_key_use(string encHex)
    {
        using var keys = AuthVectorKeys.Derive();
        var error = Assert.Throws<HpkeException>(() => HpkeSuite.P256Sha256Aes128Gcm.SetupAuthR(Hex.Decode(encHex), keys.R, Info, keys.S.PublicKey));
        Assert.Equal(HpkeError.InvalidEncapsulatedKey, error.Error);
    }

    [Fact]
    public void Recipient_public_key_on_another_curve_is_rejected()
    {
        using var p384 = SoftwareEcKey.Generate(EcCurve.P384);
        var error = Assert.Throws<HpkeException>(() => HpkeSuite.P256Sha256Aes256Gcm.SetupBaseS(p384.PublicKey, Info));
        Assert.Equal(HpkeError.InvalidKey, error.Error);
    }

    [Fact]
    public void Sender_key_on_another_curve_is_rejected()
    {
        using var keys = AuthVectorKeys.Derive();
        using var p384 = SoftwareEcKey.Generate(EcCurve.P384);
        Assert.Equal(HpkeError.InvalidKey,
            Assert.Throws<HpkeException>(() => HpkeSuite.P256Sha256Aes256Gcm.SetupAuthS(keys.R.PublicKey, Info, p384)).Error);
        Assert.Equal(HpkeError.InvalidKey,
            Assert.Throws<HpkeException>(() => HpkeSuite.P256Sha256Aes256Gcm.SetupAuthR(Hex.Decode(Auth.Enc), keys.R, Info, p384.PublicKey)).Error);
    }

    [Theory]
    [InlineData(HpkeMode.Psk)]
    [InlineData(HpkeMode.AuthPsk)]
    public void Psk_modes_are_rejected(HpkeMode mode)
    {
        var sharedSecret = Hex.Decode(Auth.SharedSecret);
        var error = Assert.Throws<HpkeException>(() => HpkeKeySchedule.Derive(HpkeSuite.P256Sha256Aes128Gcm, mode, sharedSecret, Info));
        Assert.Equal(HpkeError.UnsupportedMode, error.Error);
        Assert.Contains("not supported", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_mode_is_rejected()
    {
        var sharedSecret = Hex.Decode(Auth.SharedSecret);
        var error = Assert.Throws<HpkeException>(() => HpkeKeySchedule.Derive(HpkeSuite.P256Sha256Aes128Gcm, (HpkeMode)0x04, sharedSecret, Info));
        Assert.Equal(HpkeError.UnsupportedMode, error.Error);
    }

    [Theory]
    [InlineData(0x0011, 0x0001, 0x0001)] // DHKEM(P-384)
    [InlineData(0x0020, 0x0001, 0x0001)] // DHKEM(X25519)
    [InlineData(0x0010, 0x0002, 0x0001)] // HKDF-SHA384
    [InlineData(0x0010, 0x0001, 0x0003)] // ChaCha20-Poly1305
    [InlineData(0x0010, 0x0001, 0x0000)] // reserved
    public void Unsupported_algorithm_ids_are_rejected(int kem, int kdf, int aead)
    {
        var error = Assert.Throws<HpkeException>(() => HpkeSuite.FromIds((ushort)kem, (ushort)kdf, (ushort)aead));
        Assert.Equal(HpkeError.UnsupportedAlgorithm, error.Error);
    }

    [Fact]
    public void Seal_at_the_sequence_limit_fails_instead_of_wrapping_the_nonce()
    {
        using var recipientKey = SoftwareEcKey.Generate(EcCurve.P256);
        using var sender = HpkeSuite.P256Sha256Aes256Gcm.SetupBaseS(recipientKey.PublicKey, Info);
        sender.SequenceNumber = ulong.MaxValue - 1;
        var last = sender.Seal("last"u8, []);
        Assert.Equal(ulong.MaxValue, sender.SequenceNumber);
        Assert.Equal(HpkeError.MessageLimitReached, Assert.Throws<HpkeException>(() => sender.Seal("one more"u8, [])).Error);

        using var recipient = HpkeSuite.P256Sha256Aes256Gcm.SetupBaseR(sender.Enc, recipientKey, Info);
        recipient.SequenceNumber = ulong.MaxValue - 1;
        Assert.Equal("last"u8.ToArray(), recipient.Open(last, []));
        Assert.Equal(HpkeError.MessageLimitReached, Assert.Throws<HpkeException>(() => recipient.Open(last, [])).Error);
    }

    [Fact]
    public void Nonce_is_the_base_nonce_xor_the_big_endian_sequence_number()
    {
        using var keys = AuthVectorKeys.Derive();
        using var recipient = keys.Recipient();
        var nonce = new byte[12];
        recipient.Core.ComputeNonce(0x0102030405060708, nonce);
        // RFC 9180 App. A.3.3 base_nonce b390052d26b67a5b8a8fcaa4, XOR 0x0102030405060708 in its last 8 bytes.
        Assert.Equal("b390052d27b4795f8f89cdac", Hex.Encode(nonce));
    }

    [Fact]
    public void Export_length_outside_1_to_8160_is_rejected()
    {
        using var keys = AuthVectorKeys.Derive();
        using var recipient = keys.Recipient();
        Assert.Throws<ArgumentOutOfRangeException>(() => recipient.Export([], 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => recipient.Export([], 255 * 32 + 1));
        Assert.Equal(255 * 32, recipient.Export([], 255 * 32).Length);
    }

    [Fact]
    public void Export_differs_by_context_and_length_prefix()
    {
        using var keys = AuthVectorKeys.Derive();
        using var recipient = keys.Recipient();
        var a = recipient.Export("a"u8, 32);
        Assert.NotEqual(a, recipient.Export("b"u8, 32));
        // L is part of the labeled info (RFC 9180 §4), so a shorter export is not a prefix of a longer one.
        Assert.NotEqual(a[..16], recipient.Export("a"u8, 16));
    }

    [Fact]
    public void DeriveKeyPair_with_fewer_than_32_bytes_of_ikm_is_rejected()
    {
        var error = Assert.Throws<HpkeException>(() => DhkemP256.DeriveKeyPair(new byte[31]));
        Assert.Equal(HpkeError.DeriveKeyPairFailed, error.Error);
    }

    [Fact]
    public void Disposed_contexts_refuse_to_work()
    {
        using var recipientKey = SoftwareEcKey.Generate(EcCurve.P256);
        var sender = HpkeSuite.P256Sha256Aes256Gcm.SetupBaseS(recipientKey.PublicKey, Info);
        var recipient = HpkeSuite.P256Sha256Aes256Gcm.SetupBaseR(sender.Enc, recipientKey, Info);
        var ciphertext = sender.Seal("x"u8, []);
        sender.Dispose();
        recipient.Dispose();
        Assert.Throws<ObjectDisposedException>(() => sender.Seal("x"u8, []));
        Assert.Throws<ObjectDisposedException>(() => recipient.Open(ciphertext, []));
        Assert.Throws<ObjectDisposedException>(() => recipient.Export([], 32));
    }

    [Theory]
    [InlineData(HpkeAead.Aes128Gcm)]
    [InlineData(HpkeAead.Aes256Gcm)]
    public void Base_mode_round_trip_with_fresh_software_keys(HpkeAead aead)
    {
        var suite = HpkeSuite.FromIds(0x0010, 0x0001, (ushort)aead);
        using var recipientKey = SoftwareEcKey.Generate(EcCurve.P256);
        using var sender = suite.SetupBaseS(recipientKey.PublicKey, Info);
        Assert.Equal(65, sender.Enc.Length);
        using var recipient = suite.SetupBaseR(sender.Enc, recipientKey, Info);
        for (var i = 0; i < 5; i++)
        {
            var message = System.Text.Encoding.ASCII.GetBytes($"message {i}");
            var aad = System.Text.Encoding.ASCII.GetBytes($"aad {i}");
            Assert.Equal(message, recipient.Open(sender.Seal(message, aad), aad));
        }
        Assert.Equal(sender.Export("ctx"u8, 48), recipient.Export("ctx"u8, 48));
    }

    [Fact]
    public void Auth_mode_round_trip_with_fresh_software_keys()
    {
        using var recipientKey = SoftwareEcKey.Generate(EcCurve.P256);
        using var senderKey = SoftwareEcKey.Generate(EcCurve.P256);
        var suite = HpkeSuite.P256Sha256Aes256Gcm;
        using var sender = suite.SetupAuthS(recipientKey.PublicKey, Info, senderKey);
        using var recipient = suite.SetupAuthR(sender.Enc, recipientKey, Info, senderKey.PublicKey);
        Assert.Equal("hello"u8.ToArray(), recipient.Open(sender.Seal("hello"u8, "aad"u8), "aad"u8));
        Assert.Equal(""u8.ToArray(), recipient.Open(sender.Seal([], []), []));
        Assert.Equal(sender.Export("R2PS"u8, 32), recipient.Export("R2PS"u8, 32));
    }

    [Fact]
    public void Every_sender_setup_draws_a_fresh_ephemeral_key()
    {
        using var recipientKey = SoftwareEcKey.Generate(EcCurve.P256);
        using var first = HpkeSuite.P256Sha256Aes256Gcm.SetupBaseS(recipientKey.PublicKey, Info);
        using var second = HpkeSuite.P256Sha256Aes256Gcm.SetupBaseS(recipientKey.PublicKey, Info);
        Assert.NotEqual(first.Enc, second.Enc);
        Assert.NotEqual(first.Export([], 32), second.Export([], 32));
    }

    [Fact]
    public void Single_shot_auth_seal_and_open_round_trip()
    {
        using var recipientKey = SoftwareEcKey.Generate(EcCurve.P256);
        using var senderKey = SoftwareEcKey.Generate(EcCurve.P256);
        var suite = HpkeSuite.P256Sha256Aes256Gcm;
        var message = suite.SealAuth(recipientKey.PublicKey, Info, "aad"u8, "single shot"u8, senderKey);
        Assert.Equal("single shot"u8.ToArray(), suite.OpenAuth(message.Enc, recipientKey, Info, "aad"u8, message.Ciphertext, senderKey.PublicKey));
        Assert.Throws<HpkeException>(() => suite.OpenBase(message.Enc, recipientKey, Info, "aad"u8, message.Ciphertext));
    }

    [Fact]
    public void Single_shot_base_seal_and_open_round_trip()
    {
        using var recipientKey = SoftwareEcKey.Generate(EcCurve.P256);
        var suite = HpkeSuite.P256Sha256Aes128Gcm;
        var message = suite.SealBase(recipientKey.PublicKey, Info, [], "single shot"u8);
        Assert.Equal("single shot"u8.ToArray(), suite.OpenBase(message.Enc, recipientKey, Info, [], message.Ciphertext));
    }

    [Fact]
    public void Suite_names_and_lengths_follow_rfc9180_tables()
    {
        Assert.Equal("DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-256-GCM", HpkeSuite.P256Sha256Aes256Gcm.ToString());
        Assert.Equal((16, 12), (HpkeSuite.P256Sha256Aes128Gcm.KeyLength, HpkeSuite.P256Sha256Aes128Gcm.NonceLength));
        Assert.Equal((32, 12), (HpkeSuite.P256Sha256Aes256Gcm.KeyLength, HpkeSuite.P256Sha256Aes256Gcm.NonceLength));
        Assert.Equal((0, 0), (HpkeSuite.P256Sha256ExportOnly.KeyLength, HpkeSuite.P256Sha256ExportOnly.NonceLength));
        Assert.Same(HpkeSuite.P256Sha256Aes256Gcm, HpkeSuite.FromIds(0x0010, 0x0001, 0x0002));
    }

    /// <summary>The A.3.3 keys from their ikm (RFC 9180 App. A.3.3).</summary>
    private sealed class AuthVectorKeys : IDisposable
    {
        private AuthVectorKeys(SoftwareEcKey r, SoftwareEcKey s)
        {
            R = r;
            S = s;
        }

        public SoftwareEcKey R { get; }

        public SoftwareEcKey S { get; }

        public static AuthVectorKeys Derive() =>
            new(DhkemP256.DeriveKeyPair(Hex.Decode(Auth.IkmR)), DhkemP256.DeriveKeyPair(Hex.Decode(Auth.IkmS!)));

        public HpkeRecipientContext Recipient() =>
            HpkeSuite.P256Sha256Aes128Gcm.SetupAuthR(Hex.Decode(Auth.Enc), R, Info, S.PublicKey);

        public void Dispose()
        {
            R.Dispose();
            S.Dispose();
        }
    }
}
