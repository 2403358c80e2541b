using System.Security.Cryptography;
using R2ps.Crypto.Ec;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Keys;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;

namespace R2ps.Crypto.Tests.Ec;

// EcCurve multiplies in OpenSSL where libcrypto 3 is present and in BouncyCastle otherwise; every RFC vector test of
// OPRF, OPAQUE, HPKE and JOSE runs through whichever is in use. These pin the OpenSSL path to BouncyCastle's products.
public class OpenSslPointMultiplierTests
{
    public static TheoryData<string> Curves => new() { "P-256", "P-384", "P-521" };

    [Fact]
    public void On_linux_the_scalars_are_multiplied_in_openssl()
    {
        // CI and production run on Debian: a missing libcrypto 3 would silently fall back to the slower, variable-time path.
        Assert.SkipUnless(OperatingSystem.IsLinux(), "libcrypto 3 is only looked for on Linux.");
        Assert.True(OpenSslPointMultiplier.IsAvailable);
        Assert.Equal("OpenSSL", EcCurve.ScalarMultiplier);
    }

    // RFC 7518 Appendix C: Alice's ephemeral private key d and her public key (x, y) = d·G on P-256.
    [Fact]
    public void Generator_multiple_matches_rfc7518_appendix_c()
    {
        var d = new BcBigInteger(1, Base64Url.Decode("0_NxaRPUMQoAJt50Gz8YiTr8gRTwyEaCumd-MToTmIo"));
        var q = EcCurve.P256.MultiplyGenerator(d);

        Assert.Equal(Base64Url.Decode("gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0"), EcCurve.P256.EncodeFieldElement(q.AffineXCoord.ToBigInteger()));
        Assert.Equal(Base64Url.Decode("SLW_xSffzlPWrHEVI30DHM_4egVwt3NQqeUD7nMFpps"), EcCurve.P256.EncodeFieldElement(q.AffineYCoord.ToBigInteger()));
    }

    [Theory]
    [MemberData(nameof(Curves))]
    public void Products_equal_bouncycastles_for_random_points_and_scalars(string name)
    {
        var curve = EcCurve.FromName(name);
        for (var i = 0; i < 20; i++)
        {
            var point = curve.Parameters.G.Multiply(RandomScalar(curve)).Normalize();
            var k = RandomScalar(curve);
            var expected = point.Multiply(k).Normalize();

            Assert.Equal(expected, curve.Multiply(point, k));
            Assert.Equal(expected, curve.MultiplySecret(point, k));
            Assert.Equal(expected, curve.MultiplyBlinded(point, k));
            Assert.Equal(curve.Parameters.G.Multiply(k).Normalize(), curve.MultiplyGenerator(k));
        }
    }

    [Fact]
    public void Threads_sharing_the_curves_group_get_correct_products()
    {
        // One EC_GROUP per curve is shared by every thread (OpenSSL reads it as const); the workers multiply in parallel.
        var curve = EcCurve.P256;
        var cases = Enumerable.Range(0, 64).Select(_ => (Point: curve.Parameters.G.Multiply(RandomScalar(curve)).Normalize(), K: RandomScalar(curve))).ToArray();
        var expected = cases.Select(c => c.Point.Multiply(c.K).Normalize()).ToArray();
        var products = new Org.BouncyCastle.Math.EC.ECPoint[cases.Length];

        Parallel.For(0, cases.Length * 8, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
            products[i % cases.Length] = curve.Multiply(cases[i % cases.Length].Point, cases[i % cases.Length].K));

        Assert.Equal(expected, products);
    }

    [Theory]
    [MemberData(nameof(Curves))]
    public void Edge_scalars_give_bouncycastles_products(string name)
    {
        var curve = EcCurve.FromName(name);
        var point = curve.Parameters.G.Multiply(RandomScalar(curve)).Normalize();
        var n = curve.Order;
        var widest = BcBigInteger.One.ShiftLeft(8 * curve.FieldSize).Subtract(BcBigInteger.One); // all ones, still in range
        foreach (var k in new[] { BcBigInteger.One, BcBigInteger.Two, n.Subtract(BcBigInteger.One), n.Add(BcBigInteger.Two), widest })
            Assert.Equal(point.Multiply(k).Normalize(), curve.Multiply(point, k));

        Assert.True(curve.Multiply(point, n).IsInfinity); // n·P = O: OpenSSL's infinity is reported as such
        Assert.True(curve.MultiplyGenerator(n).IsInfinity);
        Assert.True(curve.Multiply(point, BcBigInteger.Zero).IsInfinity); // out of OpenSSL's range: BouncyCastle's answer
        var tooWide = widest.Add(BcBigInteger.Two);
        Assert.Equal(point.Multiply(tooWide).Normalize(), curve.Multiply(point, tooWide));
    }

    [Fact]
    public void Off_curve_point_is_refused_and_leaves_no_openssl_error_behind()
    {
        Assert.SkipUnless(OpenSslPointMultiplier.IsAvailable, "libcrypto 3 is not loadable here.");
        // RFC 7518 App. C epk with y + 1: an invalid-curve attack's input. EcCurve never builds such a point (decoding
        // refuses it), so this calls OpenSSL directly: it must refuse the point, not multiply on another curve.
        byte[] offCurve = [0x04, .. Base64Url.Decode("gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0"), .. Base64Url.Decode("SLW_xSffzlPWrHEVI30DHM_4egVwt3NQqeUD7nMFppo")];
        var product = new byte[EcCurve.P256.UncompressedPointSize];

        var error = Assert.Throws<CryptographicException>(() => OpenSslPointMultiplier.TryMultiply(EcCurve.P256, offCurve, [1], product));
        Assert.Contains("decode the point", error.Message, StringComparison.Ordinal);
        Assert.All(product, b => Assert.Equal(0, b));

        // .NET's own OpenSSL calls on this thread read the error queue; ours was cleared, so they still succeed.
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var hash = SHA256.HashData("after the refusal"u8);
        Assert.True(key.VerifyHash(hash, key.SignHash(hash)));
    }

    [Fact]
    public void Ecdh_through_openssl_agrees_with_dotnet()
    {
        using var ours = SoftwareEcKey.Generate(EcCurve.P256);
        using var theirs = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var theirPublic = EcCurve.P256.FromDotNet(theirs.ExportParameters(false).Q);
        using var ourPublic = ECDiffieHellman.Create(ours.PublicKey.ToDotNet());

        Assert.Equal(theirs.DeriveRawSecretAgreement(ourPublic.PublicKey), ours.DeriveSharedSecret(new EcPublicKey(EcCurve.P256, theirPublic)));
    }

    private static BcBigInteger RandomScalar(EcCurve curve) =>
        new BcBigInteger(1, RandomNumberGenerator.GetBytes(curve.FieldSize + 8)).Mod(curve.Order.Subtract(BcBigInteger.One)).Add(BcBigInteger.One);
}
