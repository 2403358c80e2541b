using System.Security.Cryptography;
using R2ps.Crypto.Ec;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Jose;
using R2ps.Crypto.Keys;
using static R2ps.Crypto.Tests.Jose.JoseTestSupport;
using TextEncoding = System.Text.Encoding;

namespace R2ps.Crypto.Tests.Jose;

/// <summary>One regression per known JOSE attack.</summary>
public class JoseAttackTests
{
    private static readonly byte[] SessionKey = Convert.FromHexString("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");

    [Fact]
    public void Jws_with_alg_none_and_no_signature_is_rejected()
    {
        // The classic unsecured JWS (RFC 7515 §A.5 form): alg none, empty signature.
        using var key = SoftwareEcKey.Generate(EcCurve.P256);
        var unsecured = B64("{\"typ\":\"JOSE\",\"alg\":\"none\"}") + "." + B64("{\"ver\":\"1.0\"}") + ".";
        Rejects(JoseError.UnsupportedAlgorithm, () => Jws.Verify(unsecured, key.PublicKey));
    }

    [Fact]
    public void Jws_with_ES384_header_on_a_P256_key_is_rejected()
    {
        // Alg confusion: the header may not choose a hash or curve other than the key's.
        using var key = SoftwareEcKey.Generate(EcCurve.P256);
        var compact = SignWithRawHeader("{\"typ\":\"JOSE\",\"alg\":\"ES384\"}", "{}", key, HashAlgorithmName.SHA384);
        Rejects(JoseError.AlgorithmKeyMismatch, () => Jws.Verify(compact, key.PublicKey));
    }

    [Fact]
    public void Jws_with_HS256_keyed_by_the_public_key_is_rejected()
    {
        // Alg confusion: an HMAC "signature" keyed with the verifier's public key bytes, which anyone knows.
        using var key = SoftwareEcKey.Generate(EcCurve.P256);
        var signingInput = B64("{\"typ\":\"JOSE\",\"alg\":\"HS256\"}") + "." + B64("{}");
        var mac = HMACSHA256.HashData(key.PublicKey.ToSpki(), TextEncoding.ASCII.GetBytes(signingInput));
        Rejects(JoseError.UnsupportedAlgorithm, () => Jws.Verify(signingInput + "." + Base64Url.Encode(mac), key.PublicKey));
    }

    [Fact]
    public void Jws_with_b64_false_is_rejected_so_the_payload_cannot_be_read_two_ways()
    {
        // RFC 7797 without crit: the signing input is the same bytes either way, but a library honouring b64 would
        // return the segment text "e30" where everyone else returns "{}".
        using var key = SoftwareEcKey.Generate(EcCurve.P256);
        var compact = SignWithRawHeader("{\"alg\":\"ES256\",\"b64\":false}", "{}", key, HashAlgorithmName.SHA256);
        Rejects(JoseError.UnsupportedHeaderParameter, () => Jws.Verify(compact, key.PublicKey));
    }

    [Fact]
    public void Jws_with_a_DER_signature_instead_of_raw_R_and_S_is_rejected()
    {
        // Wrong-length signature: a valid ECDSA signature in DER form is not a JWS signature (RFC 7518 §3.4).
        using var key = SoftwareEcKey.Generate(EcCurve.P256);
        var compact = Jws.Sign("{}"u8, key);
        using var ecdsa = ECDsa.Create(key.PublicKey.ToDotNet());
        var der = AsnDer(Base64Url.Decode(Segment(compact, 2)));
        Assert.True(ecdsa.VerifyData(TextEncoding.ASCII.GetBytes(compact[..compact.LastIndexOf('.')]), der, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));

        Rejects(JoseError.InvalidSignature, () => Jws.Verify(WithSegment(compact, 2, Base64Url.Encode(der)), key.PublicKey));
        Rejects(JoseError.InvalidSignature, () => Jws.Verify(WithSegment(compact, 2, Base64Url.Encode(Base64Url.Decode(Segment(compact, 2)).AsSpan(0, 63))), key.PublicKey));
    }

    [Fact]
    public void Ecdh_es_epk_not_on_the_curve_is_rejected_before_any_private_key_use()
    {
        // Invalid-curve attack: a point off P-256 would make d·Q leak d modulo a small order.
        using var inner = SoftwareEcKey.Generate(EcCurve.P256);
        var recipient = new CountingEcKey(inner);
        var offCurve = WithEpkOffTheCurve(Jwe.EncryptEcdhEs("x"u8, recipient.PublicKey));

        var e = Rejects(JoseError.InvalidEphemeralKey, () => Jwe.DecryptEcdhEs(offCurve, recipient));
        Assert.Contains("not a point on P-256", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, recipient.PrivateKeyOperations);
    }

    [Fact]
    public async Task Ecdh_es_epk_not_on_the_curve_is_rejected_before_an_asynchronous_key_agrees()
    {
        // The same invalid-curve attack on the path an HSM key takes (the agreement is computed before jose-jwt runs).
        using var inner = SoftwareEcKey.Generate(EcCurve.P256);
        var recipient = new AsyncOnlyKey(inner);
        var offCurve = JweCompact.Parse(WithEpkOffTheCurve(Jwe.EncryptEcdhEs("x"u8, recipient.PublicKey)));

        var e = await Assert.ThrowsAsync<JoseException>(() => offCurve.DecryptEcdhEsAsync(recipient, JweEncryption.A256GCM, CancellationToken.None));
        Assert.Equal(JoseError.InvalidEphemeralKey, e.Reason);
        Assert.Equal(0, recipient.AsyncAgreements);
    }

    [Fact]
    public void A_precomputed_agreement_answers_for_its_one_peer_only()
    {
        using var key = SoftwareEcKey.Generate(EcCurve.P256);
        using var peer = SoftwareEcKey.Generate(EcCurve.P256);
        using var other = SoftwareEcKey.Generate(EcCurve.P256);
        var point = key.DeriveSharedPoint(peer.PublicKey);

        var full = new PrecomputedAgreementKey(key, peer.PublicKey, point);
        Assert.Equal(key.DeriveSharedSecret(peer.PublicKey), full.DeriveSharedSecret(peer.PublicKey));
        Assert.Equal(point, full.DeriveSharedPoint(peer.PublicKey));
        Assert.Throws<CryptographicException>(() => full.DeriveSharedSecret(other.PublicKey));
        Assert.Throws<CryptographicException>(() => full.DeriveSharedPoint(other.PublicKey));
        Assert.Throws<CryptographicException>(() => full.SignHash(new byte[32]));

        var secretOnly = new PrecomputedAgreementKey(key, peer.PublicKey, key.DeriveSharedSecret(peer.PublicKey));
        Assert.Equal(key.DeriveSharedSecret(peer.PublicKey), secretOnly.DeriveSharedSecret(peer.PublicKey));
        Assert.Throws<CryptographicException>(() => secretOnly.DeriveSharedPoint(peer.PublicKey));
        Assert.Throws<CryptographicException>(() => secretOnly.DeriveSharedSecret(other.PublicKey));
    }

    [Fact]
    public void Ecdh_es_epk_on_a_different_curve_is_rejected_before_any_private_key_use()
    {
        // A valid P-384 epk sent to a P-256 recipient.
        using var inner = SoftwareEcKey.Generate(EcCurve.P256);
        using var p384Recipient = SoftwareEcKey.Generate(EcCurve.P384);
        var recipient = new CountingEcKey(inner);
        var p384Header = Segment(Jwe.EncryptEcdhEs("x"u8, p384Recipient.PublicKey), 0);
        var compact = WithSegment(Jwe.EncryptEcdhEs("x"u8, recipient.PublicKey), 0, p384Header);

        var e = Rejects(JoseError.InvalidEphemeralKey, () => Jwe.DecryptEcdhEs(compact, recipient));
        Assert.Contains("P-384", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, recipient.PrivateKeyOperations);
    }

    [Fact]
    public void Jwe_with_a_truncated_tag_is_rejected()
    {
        var compact = Jwe.EncryptDirect("x"u8, SessionKey);
        var shortTag = Base64Url.Encode(Base64Url.Decode(Segment(compact, 4)).AsSpan(0, 12));
        Rejects(JoseError.InvalidTag, () => Jwe.DecryptDirect(WithSegment(compact, 4, shortTag), SessionKey));
    }

    [Fact]
    public void Jwe_with_a_flipped_tag_bit_is_rejected()
    {
        var compact = Jwe.EncryptDirect("x"u8, SessionKey);
        var tag = Base64Url.Decode(Segment(compact, 4));
        tag[0] ^= 0x80;
        Rejects(JoseError.DecryptionFailed, () => Jwe.DecryptDirect(WithSegment(compact, 4, Base64Url.Encode(tag)), SessionKey));
    }

    [Fact]
    public void Jwe_with_a_tampered_protected_header_is_rejected()
    {
        // The AAD is the header segment as sent: even a semantically equal header (members reordered) must fail.
        var compact = Jwe.EncryptDirect("x"u8, SessionKey);
        Assert.Equal("{\"enc\":\"A256GCM\",\"alg\":\"dir\"}", Json(Segment(compact, 0)));
        Rejects(JoseError.DecryptionFailed, () => Jwe.DecryptDirect(WithSegment(compact, 0, B64("{\"alg\":\"dir\",\"enc\":\"A256GCM\"}")), SessionKey));
        Rejects(JoseError.DecryptionFailed, () => Jwe.DecryptDirect(WithSegment(compact, 0, B64("{\"enc\":\"A256GCM\",\"alg\":\"dir\",\"kid\":\"x\"}")), SessionKey));
    }

    [Fact]
    public void Jwe_dir_with_a_non_empty_encrypted_key_is_rejected()
    {
        var compact = Jwe.EncryptDirect("x"u8, SessionKey);
        Rejects(JoseError.UnexpectedEncryptedKey, () => Jwe.DecryptDirect(WithSegment(compact, 1, Base64Url.Encode(new byte[40])), SessionKey));
    }

    [Fact]
    public void Jwe_ecdh_es_with_a_non_empty_encrypted_key_is_rejected()
    {
        using var recipient = SoftwareEcKey.Generate(EcCurve.P256);
        var compact = Jwe.EncryptEcdhEs("x"u8, recipient.PublicKey);
        Rejects(JoseError.UnexpectedEncryptedKey, () => Jwe.DecryptEcdhEs(WithSegment(compact, 1, Base64Url.Encode(new byte[40])), recipient));
    }

    /// <summary>Raw R‖S (32 + 32 bytes) → DER ECDSA-Sig-Value (RFC 3279 §2.2.3).</summary>
    /// <summary>The JWE with its epk's y flipped in the last bit: a point off the curve (invalid-curve attack).</summary>
    private static string WithEpkOffTheCurve(string compact)
    {
        var header = Json(Segment(compact, 0));
        Assert.True(JweCompact.Parse(compact).Header.TryGetMember("epk", out var epk));
        var yText = epk.GetProperty("y").GetString()!;
        var y = Base64Url.Decode(yText);
        y[^1] ^= 0x01;
        return WithSegment(compact, 0, B64(header.Replace(yText, Base64Url.Encode(y), StringComparison.Ordinal)));
    }

    private static byte[] AsnDer(byte[] raw)
    {
        var writer = new System.Formats.Asn1.AsnWriter(System.Formats.Asn1.AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteIntegerUnsigned(raw.AsSpan(0, 32).TrimStart((byte)0));
            writer.WriteIntegerUnsigned(raw.AsSpan(32).TrimStart((byte)0));
        }
        return writer.Encode();
    }
}
