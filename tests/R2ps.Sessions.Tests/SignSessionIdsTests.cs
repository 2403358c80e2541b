namespace R2ps.Sessions.Tests;

public sealed class SignSessionIdsTests
{
    // Design: correlation id = new Guid(first 16 bytes of the pake_session_id) — .NET's Guid byte layout (little-endian
    // first three fields), so bytes 00..0f read as 03020100-0504-0706-0809-0a0b0c0d0e0f.
    const string PakeSessionId = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    [Fact]
    public void Session_id_is_the_first_16_bytes_of_the_pake_session_id_as_a_guid()
    {
        Assert.Equal(Guid.Parse("03020100-0504-0706-0809-0a0b0c0d0e0f"), SignSessionIds.ToSessionId(PakeSessionId));
    }

    [Fact]
    public void New_pake_session_ids_are_64_lowercase_hex_and_distinct()
    {
        var first = SignSessionIds.NewPakeSessionId();
        var second = SignSessionIds.NewPakeSessionId();

        Assert.True(SignSessionIds.IsValidPakeSessionId(first));
        Assert.Matches("^[0-9a-f]{64}$", first);
        Assert.NotEqual(first, second);
    }

    [Theory]
    [InlineData("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F")] // uppercase
    [InlineData("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1")] // 63 characters
    [InlineData("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f00")] // 66 characters
    [InlineData("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1g")] // not hex
    [InlineData("")]
    public void Malformed_pake_session_ids_are_rejected(string value)
    {
        Assert.False(SignSessionIds.IsValidPakeSessionId(value));
        Assert.Throws<ArgumentException>(() => SignSessionIds.ToSessionId(value));
    }
}
