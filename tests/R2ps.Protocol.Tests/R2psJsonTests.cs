using R2ps.Protocol.Payloads;

namespace R2ps.Protocol.Tests;

public class R2psJsonTests
{
    // The request payload of seed 002 §1.3 (hsm_ec_keygen), as the Java reference client sends it.
    private const string Seed002KeygenRequest = """
        {
        "ver" : "1.0",
        "nonce" : "ce1236513eff5bbbc67a24681b236f68dbd414b330ab5320cab9e4c24225dcc3",
        "iat" : 1750750250,
        "enc" : "user",
        "data" : "ZXlKbGJtTWlPaUpCTWpVMlIwTk5JaXdpWVd4bklqb2laR2x5SW4wLi5ScjIza0JyZkpUSVFnWjcxLnVBazlMdmwybHBpZVp0eENoaXBiTzhrLmpsQjN6bE5NcXNzdDhiYjBxMXdLamc=",
        "client_id" : "https://example.com/wallet/1",
        "kid" : "Ar2IGiWEJnjb57P2V4hLQIaDZuzmt54bN227obY5NSIL",
        "context" : "hsm",
        "type" : "hsm_ec_keygen",
        "pake_session_id" : "edd1e0eb4c20debf6b3cc3ee84d53d5d419f37206c3c60131d0386f9763e41b0"
        }
        """;

    [Fact]
    public void Reads_the_seed_002_request_payload()
    {
        var payload = R2psJson.Deserialize<ServiceRequestPayload>(Seed002KeygenRequest, "request payload");
        Assert.Equal("1.0", payload.Ver);
        Assert.Equal(1750750250, payload.Iat);
        Assert.Equal("https://example.com/wallet/1", payload.ClientId);
        Assert.Equal(ServiceTypes.HsmEcKeygen, payload.Type);
        Assert.Equal("edd1e0eb4c20debf6b3cc3ee84d53d5d419f37206c3c60131d0386f9763e41b0", payload.PakeSessionId);
    }

    [Fact]
    public void Writes_snake_case_members_and_omits_nulls()
    {
        var json = R2psJson.SerializeToString(new PakeResponse(PakeSessionId: "ab", Msg: "OK"));
        Assert.Equal("""{"pake_session_id":"ab","msg":"OK"}""", json);
    }

    [Theory]
    [InlineData("""{"ver":"1.0","nonce":"n","enc":"user","data":"d","client_id":"c","kid":"k","context":"hsm","type":"t"}""", "iat")] // missing
    [InlineData("""{"ver":"1.0","nonce":"n","iat":"17","enc":"user","data":"d","client_id":"c","kid":"k","context":"hsm","type":"t"}""", "iat")] // string, not integer
    [InlineData("""{"ver":"1.0","nonce":"n","iat":1.5,"enc":"user","data":"d","client_id":"c","kid":"k","context":"hsm","type":"t"}""", "iat")] // not an integer
    [InlineData("""{"ver":"1.0","nonce":null,"iat":1,"enc":"user","data":"d","client_id":"c","kid":"k","context":"hsm","type":"t"}""", "nonce")] // null
    [InlineData("""{"ver":"1.0","ver":"2.0","nonce":"n","iat":1,"enc":"user","data":"d","client_id":"c","kid":"k","context":"hsm","type":"t"}""", "ver")] // duplicate member
    public void Malformed_request_payloads_are_illegal_request_data(string json, string member)
    {
        var ex = Assert.Throws<R2psException>(() => R2psJson.Deserialize<ServiceRequestPayload>(json, "request payload"));
        Assert.Equal(ErrorCode.IllegalRequestData, ex.Code);
        Assert.Contains("request payload", ex.Message, StringComparison.Ordinal);
        Assert.Contains(member, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("null")]
    [InlineData("{")]
    [InlineData("")]
    public void Non_objects_are_illegal_request_data(string json)
    {
        var ex = Assert.Throws<R2psException>(() => R2psJson.Deserialize<ServiceRequestPayload>(json, "request payload"));
        Assert.Equal(ErrorCode.IllegalRequestData, ex.Code);
    }
}
