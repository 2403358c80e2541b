using System.Security.Cryptography;
using R2ps.Crypto.Ec;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Jose;
using R2ps.Crypto.Keys;
using R2ps.Testing;
using TextEncoding = System.Text.Encoding;

namespace R2ps.Crypto.Tests.Jose;

/// <summary>The hsm_ecdsa and hsm_ecdh examples of seeds/002 (PROTOCOL.md 3), checked offline.</summary>
public class Seed002ExampleTests
{
    // Seed 002 §3.3 hsm_ecdsa: decrypted request payload and decrypted response payload.
    private const string EcdsaKid = "02205fb03627f3d6f2100c5c2f156cd8c8da828c168ba7bac39188ac40d648a5dc";
    private const string EcdsaTbsHash = "YUHJYghlxa4CTkBEKvtPmiA+jCMUURknHs19sd7bNjs=";
    private const string EcdsaDerSignature =
        "30440220260a6228484119be74f7f8f46f964af0433b1f1218e667a92e82e45e48ef488d"
        + "02207cfe73d85a7b81d7853aa680ba4a0ee17120f7fd87b7542b34f79863052abcbf";

    // Seed 002 §4.3 hsm_ecdh: decrypted request payload and decrypted response payload.
    private const string EcdhKid = "0294ddc3fd5554688bf619987b63bbb09b13e0d04b8a9da493309eef3f41767228";
    private const string EcdhPeerSpki =
        "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAETpEgaHsA2UTbSkn7hJb3KfvrlAMb+p715Gw/q5x01ZgQZWL7xURVYB9Fw+B7TK+GYMShDJYjLlKva5f+KkTx3w==";
    private const string EcdhSharedSecret = "ad91d860a109cce0e7d334813f434be8d44a21f8b3677cfe00c25fb572950687";

    // Seed 002 §3.3: the request `data` (base64 of the ASCII of the user-type JWE).
    private const string EcdsaRequestData =
        "ZXlKbGJtTWlPaUpCTWpVMlIwTk5JaXdpWVd4bklqb2laR2x5SW4wLi5YLVpGeXpjS3ZSdWsyc3JDLjRrbVJFLTFNZEhqZ0VOaWNDSkZjd1Uw"
        + "Y1gxOHdUbTV1aDBZRVA3d2p0WGJJejBsSDZRdkdCU0Vqd1NCNk1ZYVdRNXVGRzNrR2FGMkxob0MwMlY0aXZIbTBhc2lLZlBIaDN1Qy1kSXNn"
        + "enhVdWJGQjV1Wk9rTGEwSy1rU0hNWU1Oc0lNdExyMUpHTzlNclpYeWhFT1BKZ1R5TS1FdEtEMlJPeHVnVjl0WC1kU1ZTVmM5akh3Lmt5Mk41"
        + "bk9IcktkekE2aGExVGdkQkE=";

    [Fact]
    public void Hsm_ecdsa_example_signature_verifies_under_the_key_of_the_payload_kid()
    {
        // Seed 002 §3.3; PROTOCOL.md 3: the DER signature is over the 32-byte tbs_hash as the prehash.
        var key = EcPublicKey.FromSec1(EcCurve.P256, Hex.Decode(EcdsaKid));
        using var ecdsa = ECDsa.Create(key.ToDotNet());
        var hash = Base64Std.Decode(EcdsaTbsHash);
        Assert.Equal(32, hash.Length);
        Assert.True(ecdsa.VerifyHash(hash, Hex.Decode(EcdsaDerSignature), DSASignatureFormat.Rfc3279DerSequence));
    }

    [Fact]
    public void Hsm_ecdsa_example_signature_does_not_verify_over_another_hash()
    {
        var key = EcPublicKey.FromSec1(EcCurve.P256, Hex.Decode(EcdsaKid));
        using var ecdsa = ECDsa.Create(key.ToDotNet());
        var hash = Base64Std.Decode(EcdsaTbsHash);
        hash[0] ^= 1;
        Assert.False(ecdsa.VerifyHash(hash, Hex.Decode(EcdsaDerSignature), DSASignatureFormat.Rfc3279DerSequence));
    }

    [Fact]
    public void Hsm_ecdh_example_secret_is_ECDH_of_the_test_key_with_the_point_in_the_request_kid()
    {
        // PROTOCOL.md 3: ECDH(p256.pem, point of kid 0294dd…) = the response. The HSM computed ECDH(kid's private key,
        // public_key), and public_key is p256.pem's own public key (next test): the same secret, by commutativity.
        using var testKey = SoftwareEcKey.FromPem(SharedFiles.ReadText("interop/r2ps-base-testkeys/p256.pem"));
        var hsmKey = EcPublicKey.FromSec1(EcCurve.P256, Hex.Decode(EcdhKid));
        Assert.Equal(EcdhSharedSecret, Hex.Encode(testKey.DeriveSharedSecret(hsmKey)));
    }

    [Fact]
    public void Hsm_ecdh_example_public_key_is_the_test_keys_own_public_key()
    {
        // So "ECDH of p256.pem with public_key" would be ECDH with itself, which is not the example's secret.
        using var testKey = SoftwareEcKey.FromPem(SharedFiles.ReadText("interop/r2ps-base-testkeys/p256.pem"));
        var peer = EcPublicKey.FromSpki(Base64Std.Decode(EcdhPeerSpki));
        Assert.Equal(testKey.PublicKey, peer);
        Assert.Equal("034e9120687b00d944db4a49fb8496f729fbeb94031bfa9ef5e46c3fab9c74d598", Hex.Encode(peer.ToCompressed()));
        Assert.Equal("52f9a8000558164aebaa52637533c21bf358098329c701f198af46673c8497bd", Hex.Encode(testKey.DeriveSharedSecret(peer)));
        Assert.NotEqual(EcdhSharedSecret, Hex.Encode(testKey.DeriveSharedSecret(peer)));
    }

    [Fact]
    public void User_type_request_data_is_a_dir_A256GCM_JWE_with_the_protocol_header()
    {
        // PROTOCOL.md 1.3: user types use {"enc":"A256GCM","alg":"dir"}, the bytes Jwe.EncryptDirect writes.
        var jwe = JweCompact.Parse(TextEncoding.ASCII.GetString(Base64Std.Decode(EcdsaRequestData)));
        Assert.Equal(JweAlgorithm.Direct, jwe.Algorithm);
        Assert.Equal(JweEncryption.A256GCM, jwe.Encryption);
        Assert.Equal("{\"enc\":\"A256GCM\",\"alg\":\"dir\"}", TextEncoding.UTF8.GetString(jwe.Header.ToUtf8()));
        Assert.Equal(jwe.Header.Segment, Jwe.EncryptDirect("x"u8, new byte[32]).Split('.')[0]);
    }
}
