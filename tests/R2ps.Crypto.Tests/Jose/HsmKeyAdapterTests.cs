using System.Security.Cryptography;
using R2ps.Crypto.Ec;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Jose;
using R2ps.Crypto.Keys;
using static R2ps.Crypto.Tests.Jose.JoseTestSupport;
using BcPoint = Org.BouncyCastle.Math.EC.ECPoint;
using Lib = Jose;
using TextEncoding = System.Text.Encoding;

namespace R2ps.Crypto.Tests.Jose;

/// <summary>
/// jose-jwt signs and decrypts with keys it cannot read: an <see cref="IEcPrivateKey"/> like the HSM's, reached only
/// through the ECDsa / ECDiffieHellman adapters.
/// </summary>
public class HsmKeyAdapterTests
{
    // RFC 7515 App. A.3: the ES256 private key d.
    private const string A3D = "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI";

    // RFC 7518 App. C: Bob's static private key and Alice's ephemeral public key; the derived A128GCM key.
    private const string BobD = "VEmDZpDXXK8p8N0Cndsxs924q6nS1RXFASRl6BfUqdw";
    private const string AppendixCHeader =
        """{"alg":"ECDH-ES","enc":"A128GCM","apu":"QWxpY2U","apv":"Qm9i","epk":{"kty":"EC","crv":"P-256","x":"gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0","y":"SLW_xSffzlPWrHEVI30DHM_4egVwt3NQqeUD7nMFpps"}}""";
    private const string AppendixCKey = "VqqN6vgjbSBcIijNcacQGg";

    [Fact]
    public void An_HSM_like_key_signs_a_JWS_through_jose_jwt_that_verifies_with_the_RFC_7515_public_key()
    {
        var hsm = new HsmLikeKey(SoftwareEcKey.FromPrivateScalar(EcCurve.P256, Base64Url.Decode(A3D)));
        var rfcPublicKey = PublicKeyFromJwk(EcCurve.P256, JwsTests.A3X, JwsTests.A3Y);
        Assert.Equal(rfcPublicKey, hsm.PublicKey);

        var compact = Jws.Sign("{\"iss\":\"joe\"}"u8, hsm, Jws.R2psHeaderJson);

        Assert.Equal(1, hsm.Signatures);
        Assert.Equal("{\"iss\":\"joe\"}", TextEncoding.UTF8.GetString(Jws.Verify(compact, rfcPublicKey, JwsVerificationOptions.R2ps)));
        // And jose-jwt on its own, with the RFC key as a plain .NET ECDsa, accepts it too.
        using var dotNetKey = ECDsa.Create(rfcPublicKey.ToDotNet());
        Assert.Equal("{\"iss\":\"joe\"}", Lib.JWT.Decode(compact, dotNetKey, Lib.JwsAlgorithm.ES256));
    }

    [Theory]
    [InlineData("P-384")]
    [InlineData("P-521")]
    public void An_HSM_like_key_on_the_larger_curves_signs_through_jose_jwt(string curveName)
    {
        var curve = EcCurve.FromName(curveName);
        var hsm = new HsmLikeKey(SoftwareEcKey.Generate(curve));

        var compact = Jws.Sign("payload"u8, hsm);

        Assert.Equal("payload", TextEncoding.UTF8.GetString(Jws.Verify(compact, hsm.PublicKey)));
        Assert.Equal(1, hsm.Signatures);
    }

    [Fact]
    public void An_HSM_like_key_decrypts_the_RFC_7518_appendix_C_ECDH_ES_JWE_through_jose_jwt()
    {
        // The JWE is sealed here with .NET's AES-GCM under the key RFC 7518 App. C publishes, independently of jose-jwt.
        var headerSegment = B64(AppendixCHeader);
        var plaintext = "Appendix C, decrypted by a key jose-jwt cannot read"u8.ToArray();
        var iv = RandomNumberGenerator.GetBytes(12);
        var ciphertext = new byte[plaintext.Length];
        var tag = new byte[16];
        using (var aes = new AesGcm(Base64Url.Decode(AppendixCKey), 16))
        {
            aes.Encrypt(iv, plaintext, ciphertext, tag, TextEncoding.ASCII.GetBytes(headerSegment));
        }
        var compact = string.Join('.', headerSegment, string.Empty, Base64Url.Encode(iv), Base64Url.Encode(ciphertext), Base64Url.Encode(tag));
        var hsm = new HsmLikeKey(SoftwareEcKey.FromPrivateScalar(EcCurve.P256, Base64Url.Decode(BobD)));

        Assert.Equal(plaintext, Jwe.DecryptEcdhEs(compact, hsm, JweEncryption.A128GCM));
        Assert.Equal(1, hsm.Agreements);
    }

    [Fact]
    public void An_HSM_like_key_decrypts_an_ECDH_ES_JWE_that_jose_jwt_encrypted()
    {
        var hsm = new HsmLikeKey(SoftwareEcKey.Generate(EcCurve.P256));
        var compact = Jwe.EncryptEcdhEs("to the HSM"u8, hsm.PublicKey);

        Assert.Equal("to the HSM"u8.ToArray(), Jwe.DecryptEcdhEs(compact, hsm));
    }

    [Fact]
    public void The_adapters_refuse_to_export_the_private_key()
    {
        var hsm = new HsmLikeKey(SoftwareEcKey.Generate(EcCurve.P256));
        using var signer = new EcdsaKeyAdapter(hsm);
        using var agreement = new EcdhKeyAdapter(hsm);

        Assert.Throws<CryptographicException>(() => signer.ExportParameters(true));
        Assert.Throws<CryptographicException>(() => agreement.ExportParameters(true));
        Assert.Equal(hsm.PublicKey, EcPublicKey.FromDotNet(signer.ExportParameters(false)));
        Assert.Equal(hsm.PublicKey, EcPublicKey.FromDotNet(agreement.ExportParameters(false)));
        Assert.Equal(hsm.PublicKey, EcPublicKey.FromDotNet(agreement.PublicKey.ExportParameters()));
    }

    [Fact]
    public void A_signing_failure_of_the_key_reaches_the_caller_as_the_key_threw_it()
    {
        var failing = new FailingKey(SoftwareEcKey.Generate(EcCurve.P256).PublicKey);

        var e = Assert.Throws<CryptographicException>(() => Jws.Sign("x"u8, failing));

        Assert.Equal(FailingKey.Message, e.Message);
    }

    /// <summary>Like an HSM key: the scalar stays inside (a private SoftwareEcKey); only the operations are exposed.</summary>
    private sealed class HsmLikeKey(SoftwareEcKey inside) : IEcPrivateKey
    {
        public int Signatures { get; private set; }

        public int Agreements { get; private set; }

        public EcPublicKey PublicKey => inside.PublicKey;

        public byte[] SignHash(ReadOnlySpan<byte> hash)
        {
            Signatures++;
            return inside.SignHash(hash);
        }

        public byte[] DeriveSharedSecret(EcPublicKey peer)
        {
            Agreements++;
            return inside.DeriveSharedSecret(peer);
        }

        public BcPoint DeriveSharedPoint(EcPublicKey peer) => inside.DeriveSharedPoint(peer);
    }

    private sealed class FailingKey(EcPublicKey publicKey) : IEcPrivateKey
    {
        public const string Message = "The token was removed.";

        public EcPublicKey PublicKey => publicKey;

        public byte[] SignHash(ReadOnlySpan<byte> hash) => throw new CryptographicException(Message);

        public byte[] DeriveSharedSecret(EcPublicKey peer) => throw new CryptographicException(Message);

        public BcPoint DeriveSharedPoint(EcPublicKey peer) => throw new CryptographicException(Message);
    }
}
