using System.Security.Cryptography;
using R2ps.Crypto.Ec;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Keys;

namespace R2ps.Crypto.Tests.Ec;

public class EcCurveTests
{
    public static TheoryData<string> Curves => new() { "P-256", "P-384", "P-521" };

    [Theory]
    [MemberData(nameof(Curves))]
    public void Compressed_and_uncompressed_points_of_a_dotnet_key_decode_to_the_same_point(string name)
    {
        var curve = EcCurve.FromName(name);
        using var key = ECDsa.Create(curve.DotNetCurve);
        var q = key.ExportParameters(false).Q;
        var point = curve.FromDotNet(q);

        var compressed = curve.EncodeCompressed(point);
        Assert.Equal(curve.CompressedPointSize, compressed.Length);
        Assert.Equal(point, curve.DecodePoint(compressed));

        var spki = SubjectPublicKeyInfo.Encode(curve, point);
        Assert.Equal(key.ExportSubjectPublicKeyInfo(), spki);
        var (decodedCurve, decodedPoint) = SubjectPublicKeyInfo.Decode(spki);
        Assert.Same(curve, decodedCurve);
        Assert.Equal(point, decodedPoint);
    }

    [Fact]
    public void Invalid_curve_point_is_rejected()
    {
        // RFC 7518 App. C epk with y + 1: on no curve we accept (invalid-curve attack input).
        var x = Base64Url.Decode("gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0");
        var y = Base64Url.Decode("SLW_xSffzlPWrHEVI30DHM_4egVwt3NQqeUD7nMFpps");
        byte[] good = [0x04, .. x, .. y];
        Assert.True(EcCurve.P256.TryDecodePoint(good, out _));
        var bad = (byte[])good.Clone();
        bad[^1] ^= 1;
        Assert.False(EcCurve.P256.TryDecodePoint(bad, out _));
    }

    [Fact]
    public void Coordinates_at_or_above_the_prime_and_odd_encodings_are_rejected()
    {
        var p = Hex.Decode("ffffffff00000001000000000000000000000000ffffffffffffffffffffffff");
        Assert.False(EcCurve.P256.TryDecodePoint([0x02, .. p], out _));
        Assert.False(EcCurve.P256.TryDecodePoint(new byte[33], out _)); // prefix 00
        Assert.False(EcCurve.P256.TryDecodePoint([0x00], out _)); // infinity
        Assert.False(EcCurve.P256.TryDecodePoint(new byte[32], out _)); // wrong length
    }

    [Theory]
    [MemberData(nameof(Curves))]
    public void Blinded_secret_multiplication_gives_the_plain_product_with_a_fresh_digit_pattern(string name)
    {
        var curve = EcCurve.FromName(name);
        using var a = SoftwareEcKey.Generate(curve);
        using var b = SoftwareEcKey.Generate(curve);
        var plain = curve.Multiply(b.PublicKey.Point, a.PrivateScalar);

        Assert.Equal(plain, curve.MultiplySecret(b.PublicKey.Point, a.PrivateScalar));
        Assert.Equal(plain, curve.MultiplySecret(b.PublicKey.Point, a.PrivateScalar));
        Assert.Equal(plain, a.DeriveSharedPoint(b.PublicKey));
        Assert.Equal(b.DeriveSharedSecret(a.PublicKey), a.DeriveSharedSecret(b.PublicKey));
    }
}
