using R2ps.Crypto.Ec;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.HashToCurve;
using R2ps.Testing;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;

namespace R2ps.Crypto.Tests.HashToCurve;

public class P256HashToCurveTests
{
    private static readonly byte[] Dst = System.Text.Encoding.ASCII.GetBytes("QUUX-V01-CS02-with-P256_XMD:SHA-256_SSWU_RO_");

    // RFC 9380 App. J.1.1 (P256_XMD:SHA-256_SSWU_RO_): msg, u0, u1, Q0.x, Q0.y, Q1.x, Q1.y, P.x, P.y
    public static TheoryData<string, string[]> Vectors => new()
    {
        {
            "",
            [
                "ad5342c66a6dd0ff080df1da0ea1c04b96e0330dd89406465eeba11582515009",
                "8c0f1d43204bd6f6ea70ae8013070a1518b43873bcd850aafa0a9e220e2eea5a",
                "ab640a12220d3ff283510ff3f4b1953d09fad35795140b1c5d64f313967934d5",
                "dccb558863804a881d4fff3455716c836cef230e5209594ddd33d85c565b19b1",
                "51cce63c50d972a6e51c61334f0f4875c9ac1cd2d3238412f84e31da7d980ef5",
                "b45d1a36d00ad90e5ec7840a60a4de411917fbe7c82c3949a6e699e5a1b66aac",
                "2c15230b26dbc6fc9a37051158c95b79656e17a1a920b11394ca91c44247d3e4",
                "8a7a74985cc5c776cdfe4b1f19884970453912e9d31528c060be9ab5c43e8415",
            ]
        },
        {
            "abc",
            [
                "afe47f2ea2b10465cc26ac403194dfb68b7f5ee865cda61e9f3e07a537220af1",
                "379a27833b0bfe6f7bdca08e1e83c760bf9a338ab335542704edcd69ce9e46e0",
                "5219ad0ddef3cc49b714145e91b2f7de6ce0a7a7dc7406c7726c7e373c58cb48",
                "7950144e52d30acbec7b624c203b1996c99617d0b61c2442354301b191d93ecf",
                "019b7cb4efcfeaf39f738fe638e31d375ad6837f58a852d032ff60c69ee3875f",
                "589a62d2b22357fed5449bc38065b760095ebe6aeac84b01156ee4252715446e",
                "0bb8b87485551aa43ed54f009230450b492fead5f1cc91658775dac4a3388a0f",
                "5c41b3d0731a27a7b14bc0bf0ccded2d8751f83493404c84a88e71ffd424212e",
            ]
        },
        {
            "abcdef0123456789",
            [
                "0fad9d125a9477d55cf9357105b0eb3a5c4259809bf87180aa01d651f53d312c",
                "b68597377392cd3419d8fcc7d7660948c8403b19ea78bbca4b133c9d2196c0fb",
                "a17bdf2965eb88074bc01157e644ed409dac97cfcf0c61c998ed0fa45e79e4a2",
                "4f1bc80c70d411a3cc1d67aeae6e726f0f311639fee560c7f5a664554e3c9c2e",
                "7da48bb67225c1a17d452c983798113f47e438e4202219dd0715f8419b274d66",
                "b765696b2913e36db3016c47edb99e24b1da30e761a8a3215dc0ec4d8f96e6f9",
                "65038ac8f2b1def042a5df0b33b1f4eca6bff7cb0f9c6c1526811864e544ed80",
                "cad44d40a656e7aff4002a8de287abc8ae0482b5ae825822bb870d6df9b56ca3",
            ]
        },
    };

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Rfc9380_J11_vectors_reproduce_u_Q0_Q1_and_P(string message, string[] expected)
    {
        var msg = System.Text.Encoding.ASCII.GetBytes(message);
        var u = P256HashToCurve.HashToField(msg, Dst, 2, P256HashToCurve.FieldPrime);
        Assert.Equal(expected[0], Field(u[0]));
        Assert.Equal(expected[1], Field(u[1]));

        var q0 = P256HashToCurve.MapToCurve(u[0]).Normalize();
        Assert.Equal(expected[2], Field(q0.AffineXCoord.ToBigInteger()));
        Assert.Equal(expected[3], Field(q0.AffineYCoord.ToBigInteger()));
        var q1 = P256HashToCurve.MapToCurve(u[1]).Normalize();
        Assert.Equal(expected[4], Field(q1.AffineXCoord.ToBigInteger()));
        Assert.Equal(expected[5], Field(q1.AffineYCoord.ToBigInteger()));

        var p = P256HashToCurve.HashToCurve(msg, Dst);
        Assert.Equal(expected[6], Field(p.AffineXCoord.ToBigInteger()));
        Assert.Equal(expected[7], Field(p.AffineYCoord.ToBigInteger()));
        Assert.True(p.IsValid());
    }

    [Fact]
    public void Every_vector_of_the_shared_file_reproduces()
    {
        using var json = SharedFiles.ReadJson("vectors/hash_to_curve_P256_XMD_SHA-256_SSWU_RO.json");
        Assert.Equal(System.Text.Encoding.ASCII.GetString(Dst), json.RootElement.GetProperty("dst").GetString());
        var count = 0;
        foreach (var vector in json.RootElement.GetProperty("vectors").EnumerateArray())
        {
            var msg = System.Text.Encoding.ASCII.GetBytes(vector.GetProperty("msg").GetString()!);
            var u = P256HashToCurve.HashToField(msg, Dst, 2, P256HashToCurve.FieldPrime);
            Assert.Equal(Strip(vector.GetProperty("u")[0].GetString()), Field(u[0]));
            Assert.Equal(Strip(vector.GetProperty("u")[1].GetString()), Field(u[1]));
            AssertPoint(vector.GetProperty("Q0"), P256HashToCurve.MapToCurve(u[0]).Normalize());
            AssertPoint(vector.GetProperty("Q1"), P256HashToCurve.MapToCurve(u[1]).Normalize());
            AssertPoint(vector.GetProperty("P"), P256HashToCurve.HashToCurve(msg, Dst));
            count++;
        }
        Assert.Equal(5, count);
    }

    [Fact]
    public void A_u_outside_the_field_is_refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => P256HashToCurve.MapToCurve(P256HashToCurve.FieldPrime));

    private static void AssertPoint(System.Text.Json.JsonElement expected, Org.BouncyCastle.Math.EC.ECPoint actual)
    {
        Assert.Equal(Strip(expected.GetProperty("x").GetString()), Field(actual.AffineXCoord.ToBigInteger()));
        Assert.Equal(Strip(expected.GetProperty("y").GetString()), Field(actual.AffineYCoord.ToBigInteger()));
    }

    private static string Strip(string? hex) => hex!.StartsWith("0x", StringComparison.Ordinal) ? hex[2..] : hex;

    private static string Field(BcBigInteger value) => Hex.Encode(EcCurve.P256.EncodeFieldElement(value));
}
