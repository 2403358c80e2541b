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

    [Theory]
    [InlineData("AQ")] // missing padding
    [InlineData("AR==")] // non-zero trailing bits
    [InlineData("_-8=")] // url alphabet
    public void Standard_base64_is_strict_too(string text) => Assert.False(Base64Std.TryDecode(text, out _));
}
