using R2ps.Crypto.Ec;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Hpke;
using R2ps.Crypto.Keys;

namespace R2ps.Crypto.Tests.Hpke;

/// <summary>The HPKE step of the BFF device-session establishment (PROTOCOL.md 2.1).</summary>
public class DeviceSessionHpkeTests
{
    // Keys of the RFC 9180 test-vectors.json "AES-256-GCM, mode 2 (auth)" vector (ikmR = BFF, ikmS = device,
    // ikmE = ephemeral), used with the protocol's info and export label. Project regression vector: computed by an
    // independent Python implementation (pyca/cryptography primitives) that reproduces that RFC vector first.
    private const string IkmBff = "3c56756948f1c27aed3eb27a923c891dc073eccf94bb6c1b64a8bfaa95f1f8f7";
    private const string IkmDevice = "0f3def8cc45967f86c566f2c2a7decedff0d5f8b20a34ab65318144c80cb6b2b";
    private const string IkmEphemeral = "d6c49e442aad90bcc1bc0d166e5c4d3df845c803ba08b8a4d891af2eeae4f97e";
    private const string ExpectedEnc = "04a7aeac79fda402674ef247c12d6f5fdfd21498d896b67ff04ec181382d4516b7"
        + "662be32b4a2ae817c2d57104ecb6fcaa527438939810612d1b3d0af36ffc66ce";
    private const string ExpectedCiphertext =
        "f6078bbdb4d6a4a8aaf2923f4f539f1e65564783a8bd5874130f26b84b5e2604b0cd69a84d1992fe6444ae7f18cc2c54"
        + "329ec5fe01c2f6dc0787454f8613892d54b50ef1e63fb0650d0ea7e683af8d9c32bbc8ef5d942a9b07f062eb6f01c301"
        + "9bc5cb491a8b70c531d32c9a7c4a677a5c150ccd3ce592694dd3f6c593272fb3166d8058571beda2e55e64cab48c976d"
        + "4393fb4379a9719fac";
    private const string ExpectedSessionKey = "7dc143518159b61056e77c0d04bd23b929b19862a01ac25f372b7aa1832d1615";

    private static ReadOnlySpan<byte> Request =>
        """{"client_id":"wallet-1","kid":"device-key-1","iat":1700000000,"nonce":"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"}"""u8;

    [Fact]
    public void Wallet_seal_reproduces_the_known_enc_ct_and_session_key()
    {
        using var bff = DhkemP256.DeriveKeyPair(Hex.Decode(IkmBff));
        using var device = DhkemP256.DeriveKeyPair(Hex.Decode(IkmDevice));
        using var ephemeral = DhkemP256.DeriveKeyPair(Hex.Decode(IkmEphemeral));
        using var sealedRequest = DeviceSessionHpke.Seal(bff.PublicKey, device, Request, ephemeral);
        Assert.Equal(ExpectedEnc, Hex.Encode(sealedRequest.Enc));
        Assert.Equal(ExpectedCiphertext, Hex.Encode(sealedRequest.Ciphertext));
        Assert.Equal(ExpectedSessionKey, Hex.Encode(sealedRequest.SessionKey));
    }

    [Fact]
    public void Bff_open_of_the_known_message_yields_the_request_and_session_key()
    {
        using var bff = DhkemP256.DeriveKeyPair(Hex.Decode(IkmBff));
        using var device = DhkemP256.DeriveKeyPair(Hex.Decode(IkmDevice));
        using var opened = DeviceSessionHpke.Open(Hex.Decode(ExpectedEnc), Hex.Decode(ExpectedCiphertext), bff, device.PublicKey);
        Assert.Equal(Request.ToArray(), opened.Plaintext);
        Assert.Equal(ExpectedSessionKey, Hex.Encode(opened.SessionKey));
    }

    [Fact]
    public void Session_key_is_the_general_api_export_under_the_protocol_label()
    {
        using var bff = SoftwareEcKey.Generate(EcCurve.P256);
        using var device = SoftwareEcKey.Generate(EcCurve.P256);
        using var ephemeral = SoftwareEcKey.Generate(EcCurve.P256);
        using var sealedRequest = DeviceSessionHpke.Seal(bff.PublicKey, device, Request, ephemeral);
        using var context = HpkeSuite.P256Sha256Aes256Gcm.SetupAuthR(sealedRequest.Enc, bff, "R2PS-BFF-SESSION-v1"u8, device.PublicKey);
        Assert.Equal(Request.ToArray(), context.Open(sealedRequest.Ciphertext, []));
        Assert.Equal(sealedRequest.SessionKey.ToArray(), context.Export("R2PS-BFF-SESSION-KEY"u8, 32));
    }

    [Fact]
    public void Wallet_and_bff_derive_the_same_session_key_with_fresh_keys()
    {
        using var bff = SoftwareEcKey.Generate(EcCurve.P256);
        using var device = SoftwareEcKey.Generate(EcCurve.P256);
        using var sealedRequest = DeviceSessionHpke.Seal(bff.PublicKey, device, Request);
        using var opened = DeviceSessionHpke.Open(sealedRequest.Enc, sealedRequest.Ciphertext, bff, device.PublicKey);
        Assert.Equal(Request.ToArray(), opened.Plaintext);
        Assert.Equal(DeviceSessionHpke.SessionKeyLength, opened.SessionKey.Length);
        Assert.Equal(sealedRequest.SessionKey.ToArray(), opened.SessionKey.ToArray());
    }

    [Fact]
    public void Bff_open_with_another_device_key_fails()
    {
        using var bff = SoftwareEcKey.Generate(EcCurve.P256);
        using var device = SoftwareEcKey.Generate(EcCurve.P256);
        using var registered = SoftwareEcKey.Generate(EcCurve.P256);
        using var sealedRequest = DeviceSessionHpke.Seal(bff.PublicKey, device, Request);
        var error = Assert.Throws<HpkeException>(() => DeviceSessionHpke.Open(sealedRequest.Enc, sealedRequest.Ciphertext, bff, registered.PublicKey));
        Assert.Equal(HpkeError.OpenFailed, error.Error);
    }

    [Fact]
    public void Bff_open_with_a_malformed_enc_is_an_encapsulated_key_error()
    {
        using var bff = DhkemP256.DeriveKeyPair(Hex.Decode(IkmBff));
        using var device = DhkemP256.DeriveKeyPair(Hex.Decode(IkmDevice));
        var enc = Hex.Decode(ExpectedEnc);
        enc[10] ^= 1;
        var error = Assert.Throws<HpkeException>(() => DeviceSessionHpke.Open(enc, Hex.Decode(ExpectedCiphertext), bff, device.PublicKey));
        Assert.Equal(HpkeError.InvalidEncapsulatedKey, error.Error);
    }

    [Fact]
    public void Disposing_the_result_zeroes_and_withholds_the_session_key()
    {
        using var bff = SoftwareEcKey.Generate(EcCurve.P256);
        using var device = SoftwareEcKey.Generate(EcCurve.P256);
        var sealedRequest = DeviceSessionHpke.Seal(bff.PublicKey, device, Request);
        sealedRequest.Dispose();
        Assert.Throws<ObjectDisposedException>(() => sealedRequest.SessionKey.ToArray());
    }
}
