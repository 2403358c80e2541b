using System.Security.Cryptography;
using TextEncoding = System.Text.Encoding;
using R2ps.Crypto.Ec;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Jose;
using R2ps.Crypto.Keys;
using BcPoint = Org.BouncyCastle.Math.EC.ECPoint;

namespace R2ps.Crypto.Tests.Jose;

/// <summary>Builders for hand-made (often hostile) JOSE objects that the library itself would refuse to produce.</summary>
internal static class JoseTestSupport
{
    public static EcPublicKey PublicKeyFromJwk(EcCurve curve, string x, string y) =>
        EcPublicKey.FromSec1(curve, [0x04, .. Base64Url.Decode(x), .. Base64Url.Decode(y)]);

    public static string B64(string json) => Base64Url.Encode(TextEncoding.UTF8.GetBytes(json));

    public static string Json(string b64) => TextEncoding.UTF8.GetString(Base64Url.Decode(b64));

    /// <summary>A JWS with exactly this header text, signed correctly with <paramref name="key"/> and <paramref name="hash"/>.</summary>
    public static string SignWithRawHeader(string headerJson, string payload, IEcPrivateKey key, HashAlgorithmName hash)
    {
        var signingInput = B64(headerJson) + "." + B64(payload);
        var digest = CryptographicOperations.HashData(hash, TextEncoding.ASCII.GetBytes(signingInput));
        return signingInput + "." + Base64Url.Encode(key.SignHash(digest));
    }

    /// <summary>Replaces one dot-separated segment of a compact serialization.</summary>
    public static string WithSegment(string compact, int index, string segment)
    {
        var parts = compact.Split('.');
        parts[index] = segment;
        return string.Join('.', parts);
    }

    public static string Segment(string compact, int index) => compact.Split('.')[index];

    public static JoseException Rejects(JoseError reason, Action action)
    {
        var e = Assert.Throws<JoseException>(action);
        Assert.Equal(reason, e.Reason);
        return e;
    }
}

/// <summary>An <see cref="IEcPrivateKey"/> that counts its private-key operations, to prove a check came before any use.</summary>
internal sealed class CountingEcKey(SoftwareEcKey inner) : IEcPrivateKey
{
    public int PrivateKeyOperations { get; private set; }

    public EcPublicKey PublicKey => inner.PublicKey;

    public byte[] SignHash(ReadOnlySpan<byte> hash)
    {
        PrivateKeyOperations++;
        return inner.SignHash(hash);
    }

    public byte[] DeriveSharedSecret(EcPublicKey peer)
    {
        PrivateKeyOperations++;
        return inner.DeriveSharedSecret(peer);
    }

    public BcPoint DeriveSharedPoint(EcPublicKey peer)
    {
        PrivateKeyOperations++;
        return inner.DeriveSharedPoint(peer);
    }
}
