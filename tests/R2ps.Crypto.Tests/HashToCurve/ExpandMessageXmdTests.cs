using R2ps.Crypto.Encoding;
using R2ps.Crypto.HashToCurve;
using R2ps.Testing;

namespace R2ps.Crypto.Tests.HashToCurve;

public class ExpandMessageXmdTests
{
    private const string ShortDst = "QUUX-V01-CS02-with-expander-SHA256-128";

    // RFC 9380 App. K.2 DST: "QUUX-V01-CS02-with-expander-SHA256-128-long-DST-" and 208 '1's, 256 bytes (> 255: hashed).
    private static readonly string LongDst = "QUUX-V01-CS02-with-expander-SHA256-128-long-DST-" + new string('1', 208);

    // RFC 9380 App. K.1 (expand_message_xmd, SHA-256, DST of 38 bytes)
    public static TheoryData<string, int, string> ShortDstVectors => new()
    {
        { "", 0x20, "68a985b87eb6b46952128911f2a4412bbc302a9d759667f87f7a21d803f07235" },
        { "abc", 0x20, "d8ccab23b5985ccea865c6c97b6e5b8350e794e603b4b97902f53a8a0d605615" },
        { "abcdef0123456789", 0x20, "eff31487c770a893cfb36f912fbfcbff40d5661771ca4b2cb4eafe524333f5c1" },
        { "abc", 0x80, "abba86a6129e366fc877aab32fc4ffc70120d8996c88aee2fe4b32d6c7b6437a647e6c3163d40b76a73cf6a5674ef1d890f95b664ee0afa5359a5c4e07985635bbecbac65d747d3d2da7ec2b8221b17b0ca9dc8a1ac1c07ea6a1e60583e2cb00058e77b7b72a298425cd1b941ad4ec65e8afc50303a22c0f99b0509b4c895f40" },
    };

    // RFC 9380 App. K.2 (expand_message_xmd, SHA-256, DST of 256+ bytes: hashed with "H2C-OVERSIZE-DST-")
    public static TheoryData<string, int, string> LongDstVectors => new()
    {
        { "", 0x20, "e8dc0c8b686b7ef2074086fbdd2f30e3f8bfbd3bdf177f73f04b97ce618a3ed3" },
        { "abc", 0x20, "52dbf4f36cf560fca57dedec2ad924ee9c266341d8f3d6afe5171733b16bbb12" },
        { "abcdef0123456789", 0x20, "35387dcf22618f3728e6c686490f8b431f76550b0b2c61cbc1ce7001536f4521" },
        { "abc", 0x80, "1a30a5e36fbdb87077552b9d18b9f0aee16e80181d5b951d0471d55b66684914aef87dbb3626eaabf5ded8cd0686567e503853e5c84c259ba0efc37f71c839da2129fe81afdaec7fbdc0ccd4c794727a17c0d20ff0ea55e1389d6982d1241cb8d165762dbc39fb0cee4474d2cbbd468a835ae5b2f20e4f959f56ab24cd6fe267" },
    };

    [Theory]
    [MemberData(nameof(ShortDstVectors))]
    public void Rfc9380_K1_vectors_reproduce(string message, int length, string expected) =>
        Assert.Equal(expected, Hex.Encode(ExpandMessageXmd.Expand(System.Text.Encoding.ASCII.GetBytes(message), System.Text.Encoding.ASCII.GetBytes(ShortDst), length)));

    [Theory]
    [MemberData(nameof(LongDstVectors))]
    public void Rfc9380_K2_vectors_with_oversized_dst_reproduce(string message, int length, string expected) =>
        Assert.Equal(expected, Hex.Encode(ExpandMessageXmd.Expand(System.Text.Encoding.ASCII.GetBytes(message), System.Text.Encoding.ASCII.GetBytes(LongDst), length)));

    [Theory]
    [InlineData("vectors/expand_message_xmd_SHA256_38.json")]
    [InlineData("vectors/expand_message_xmd_SHA256_256.json")]
    public void Every_vector_of_the_shared_file_reproduces(string file)
    {
        using var json = SharedFiles.ReadJson(file);
        var dst = System.Text.Encoding.ASCII.GetBytes(json.RootElement.GetProperty("DST").GetString()!);
        var count = 0;
        foreach (var test in json.RootElement.GetProperty("tests").EnumerateArray())
        {
            var message = System.Text.Encoding.ASCII.GetBytes(test.GetProperty("msg").GetString()!);
            var length = Convert.ToInt32(test.GetProperty("len_in_bytes").GetString(), 16);
            Assert.Equal(test.GetProperty("uniform_bytes").GetString(), Hex.Encode(ExpandMessageXmd.Expand(message, dst, length)));
            count++;
        }
        Assert.Equal(10, count);
    }

    [Fact]
    public void The_long_dst_test_string_is_the_one_of_the_shared_file()
    {
        using var json = SharedFiles.ReadJson("vectors/expand_message_xmd_SHA256_256.json");
        Assert.Equal(json.RootElement.GetProperty("DST").GetString(), LongDst);
    }

    [Fact]
    public void Output_longer_than_255_blocks_is_refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => ExpandMessageXmd.Expand("x"u8, "DST"u8, 255 * 32 + 1));
}
