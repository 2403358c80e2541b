using R2ps.Crypto.Encoding;

namespace R2ps.Crypto.Tests.Encoding;

public class Base64UrlTests
{
    [Theory]
    [InlineData("", new byte[0])]
    [InlineData("AQ", new byte[] { 1 })]
    [InlineData("_-8", new byte[] { 0xff, 0xef })]
    public void Round_trips_canonical_values(string text, byte[] bytes)
    {
        Assert.Equal(bytes, Base64Url.Decode(text));
        Assert.Equal(text, Base64Url.Encode(bytes));
    }

    [Theory]
    [InlineData("AQ==")] // padding
    [InlineData("A")] // impossible length
    [InlineData("AR")] // non-zero trailing bits: a second spelling of 0x01
    [InlineData("A Q")] // whitespace
    [InlineData("AQ+/")] // standard alphabet
    public void Rejects_non_canonical_text(string text)
    {
        Assert.False(Base64Url.TryDecode(text, out _));
        Assert.Throws<FormatException>(() => Base64Url.Decode(text));
    }

    [Fact]
    public void Accepts_exactly_the_texts_that_are_the_encoding_of_some_bytes()
    {
        // Every final character (the whole alphabet and some strangers) after every length of final group: TryDecode
        // must accept exactly the texts that re-encode to themselves, the definition of canonical base64url.
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        var random = new Random(20261207);
        var accepted = 0;
        for (var length = 1; length <= 12; length++)
        {
            var data = new byte[length];
            random.NextBytes(data);
            var text = Base64Url.Encode(data);
            foreach (var last in alphabet + "=+/ \n\u00e9")
            {
                var candidate = text[..^1] + last;
                var canonical = Reference(candidate, alphabet);
                Assert.True(canonical == Base64Url.TryDecode(candidate, out var decoded), $"'{candidate}': expected {(canonical ? "accepted" : "refused")}");
                if (!canonical) continue;
                accepted++;
                Assert.Equal(candidate, Base64Url.Encode(decoded));
            }
        }
        Assert.True(accepted > 12 * 4, "Too few candidates were canonical for the test to mean anything.");
    }

    private static bool Reference(string text, string alphabet)
    {
        if (text.Length % 4 == 1 || text.Any(c => !alphabet.Contains(c))) return false;
        var standard = text.Replace('-', '+').Replace('_', '/');
        var bytes = Convert.FromBase64String(standard + new string('=', (4 - text.Length % 4) % 4));
        return Base64Url.Encode(bytes) == text;
    }

    [Theory]
    [InlineData("AQ")] // missing padding
    [InlineData("AR==")] // non-zero trailing bits
    [InlineData("_-8=")] // url alphabet
    public void Standard_base64_is_strict_too(string text) => Assert.False(Base64Std.TryDecode(text, out _));
}
