using System.Net;
using System.Net.Http.Headers;
using System.Text;
using R2ps.Crypto.Ec;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Keys;
using R2ps.Protocol;
using R2ps.Protocol.Envelopes;
using R2ps.Wallet;
using R2ps.Wallet.Http;
using static R2ps.Bff.Tests.DeviceSessionProbe;

namespace R2ps.Bff.Tests;

/// <summary>
/// Every refusal of the BFF itself (PROTOCOL.md 2.1–2.4, 1.2): status, error code, and the error body
/// <c>{"error_code","error_message"}</c>. One test per attack or malformation.
/// </summary>
[Collection(EmbeddedBffDefinition.Name)]
public sealed class BffErrorTests(EmbeddedBff system)
{
    const string DeviceSessions = "r2ps/v1/device-sessions";
    const string Service = "r2ps/v1/service";

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    static long Now => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    async Task<R2psDevice> RegisteredDeviceAsync(HttpClient http)
    {
        var device = EmbeddedBff.NewDevice();
        await system.Admin(http).RegisterAsync(device.ClientId, device.Kid, device.PublicKey, [EmbeddedBff.Context], Ct);
        return device;
    }

    static async Task AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal(code, await ErrorCodeAsync(response, Ct));
    }

    // --- 2.1 establishment ---------------------------------------------------------------------------------------------

    [Fact]
    public async Task Device_session_body_that_is_not_json_is_400()
    {
        using var http = system.CreateClient();
        using var response = await PostJsonAsync(http, DeviceSessions, "{not json", Ct);
        await AssertErrorAsync(response, HttpStatusCode.BadRequest, "ILLEGAL_REQUEST_DATA");
    }

    [Fact]
    public async Task Device_session_body_without_ct_is_400()
    {
        using var http = system.CreateClient();
        using var response = await PostJsonAsync(http, DeviceSessions, """{"client_id":"a","kid":"b","enc":"AAAA"}""", Ct);
        await AssertErrorAsync(response, HttpStatusCode.BadRequest, "ILLEGAL_REQUEST_DATA");
    }

    [Fact]
    public async Task Enc_that_is_not_65_bytes_is_400()
    {
        using var http = system.CreateClient();
        var device = await RegisteredDeviceAsync(http);
        var (body, _) = Request(device.ClientId, device.Kid, Hello(device.ClientId, device.Kid, Now, ClientEnvelope.NewNonce()), device.Key, system.BffKey);
        var spoiled = System.Text.Json.Nodes.JsonNode.Parse(body)!;
        spoiled["enc"] = Base64Url.Encode(new byte[64]);
        using var response = await PostJsonAsync(http, DeviceSessions, spoiled.ToJsonString(), Ct);
        await AssertErrorAsync(response, HttpStatusCode.BadRequest, "ILLEGAL_REQUEST_DATA");
    }

    [Fact]
    public async Task Enc_that_is_not_a_point_on_p256_is_400()
    {
        using var http = system.CreateClient();
        var device = await RegisteredDeviceAsync(http);
        var (body, _) = Request(device.ClientId, device.Kid, Hello(device.ClientId, device.Kid, Now, ClientEnvelope.NewNonce()), device.Key, system.BffKey);
        var offCurve = new byte[65];
        offCurve[0] = 0x04;
        offCurve[64] = 0x01; // (0, 1) is not on P-256
        var spoiled = System.Text.Json.Nodes.JsonNode.Parse(body)!;
        spoiled["enc"] = Base64Url.Encode(offCurve);
        using var response = await PostJsonAsync(http, DeviceSessions, spoiled.ToJsonString(), Ct);
        await AssertErrorAsync(response, HttpStatusCode.BadRequest, "ILLEGAL_REQUEST_DATA");
    }

    [Fact]
    public async Task Ct_in_padded_base64_instead_of_base64url_is_400()
    {
        using var http = system.CreateClient();
        var device = await RegisteredDeviceAsync(http);
        var (body, _) = Request(device.ClientId, device.Kid, Hello(device.ClientId, device.Kid, Now, ClientEnvelope.NewNonce()), device.Key, system.BffKey);
        var spoiled = System.Text.Json.Nodes.JsonNode.Parse(body)!;
        spoiled["ct"] = Base64Std.Encode(Base64Url.Decode(spoiled["ct"]!.GetValue<string>())) + "==";
        using var response = await PostJsonAsync(http, DeviceSessions, spoiled.ToJsonString(), Ct);
        await AssertErrorAsync(response, HttpStatusCode.BadRequest, "ILLEGAL_REQUEST_DATA");
    }

    [Fact]
    public async Task Unknown_client_is_401()
    {
        using var http = system.CreateClient();
        var device = EmbeddedBff.NewDevice(); // never registered
        var (body, _) = Request(device.ClientId, device.Kid, Hello(device.ClientId, device.Kid, Now, ClientEnvelope.NewNonce()), device.Key, system.BffKey);
        using var response = await PostJsonAsync(http, DeviceSessions, body, Ct);
        await AssertErrorAsync(response, HttpStatusCode.Unauthorized, "UNAUTHORIZED");
    }

    [Fact]
    public async Task Ct_sealed_by_another_key_than_the_registered_device_key_does_not_open_and_is_401()
    {
        using var http = system.CreateClient();
        var device = await RegisteredDeviceAsync(http);
        using var impostor = SoftwareEcKey.Generate(EcCurve.P256);
        var (body, _) = Request(device.ClientId, device.Kid, Hello(device.ClientId, device.Kid, Now, ClientEnvelope.NewNonce()), impostor, system.BffKey);
        using var response = await PostJsonAsync(http, DeviceSessions, body, Ct);
        await AssertErrorAsync(response, HttpStatusCode.Unauthorized, "UNAUTHORIZED");
    }

    [Fact]
    public async Task Ct_sealed_to_another_bff_key_does_not_open_and_is_401()
    {
        using var http = system.CreateClient();
        var device = await RegisteredDeviceAsync(http);
        using var otherBff = SoftwareEcKey.Generate(EcCurve.P256);
        var (body, _) = Request(device.ClientId, device.Kid, Hello(device.ClientId, device.Kid, Now, ClientEnvelope.NewNonce()), device.Key, otherBff.PublicKey);
        using var response = await PostJsonAsync(http, DeviceSessions, body, Ct);
        await AssertErrorAsync(response, HttpStatusCode.Unauthorized, "UNAUTHORIZED");
    }

    [Fact]
    public async Task Inner_ids_that_differ_from_the_outer_ones_are_401()
    {
        using var http = system.CreateClient();
        var device = await RegisteredDeviceAsync(http);
        var (body, _) = Request(device.ClientId, device.Kid, Hello("someone-else", device.Kid, Now, ClientEnvelope.NewNonce()), device.Key, system.BffKey);
        using var response = await PostJsonAsync(http, DeviceSessions, body, Ct);
        await AssertErrorAsync(response, HttpStatusCode.Unauthorized, "UNAUTHORIZED");
    }

    [Fact]
    public async Task Stale_iat_is_403()
    {
        using var http = system.CreateClient();
        var device = await RegisteredDeviceAsync(http);
        var (body, _) = Request(device.ClientId, device.Kid, Hello(device.ClientId, device.Kid, Now - 31, ClientEnvelope.NewNonce()), device.Key, system.BffKey);
        using var response = await PostJsonAsync(http, DeviceSessions, body, Ct);
        await AssertErrorAsync(response, HttpStatusCode.Forbidden, "ACCESS_DENIED");
    }

    [Fact]
    public async Task Future_iat_is_403()
    {
        using var http = system.CreateClient();
        var device = await RegisteredDeviceAsync(http);
        var (body, _) = Request(device.ClientId, device.Kid, Hello(device.ClientId, device.Kid, Now + 60, ClientEnvelope.NewNonce()), device.Key, system.BffKey);
        using var response = await PostJsonAsync(http, DeviceSessions, body, Ct);
        await AssertErrorAsync(response, HttpStatusCode.Forbidden, "ACCESS_DENIED");
    }

    [Fact]
    public async Task Replayed_establishment_is_403()
    {
        using var http = system.CreateClient();
        var device = await RegisteredDeviceAsync(http);
        var (body, _) = Request(device.ClientId, device.Kid, Hello(device.ClientId, device.Kid, Now, ClientEnvelope.NewNonce()), device.Key, system.BffKey);
        using (var first = await PostJsonAsync(http, DeviceSessions, body, Ct))
            Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        using var replay = await PostJsonAsync(http, DeviceSessions, body, Ct);
        await AssertErrorAsync(replay, HttpStatusCode.Forbidden, "ACCESS_DENIED");
    }

    [Fact]
    public async Task Device_session_request_as_text_plain_is_415()
    {
        using var http = system.CreateClient();
        using var content = new StringContent("{}", Encoding.UTF8, "text/plain");
        using var response = await http.PostAsync(new Uri(DeviceSessions, UriKind.Relative), content, Ct);
        await AssertErrorAsync(response, HttpStatusCode.UnsupportedMediaType, "UNSUPPORTED_REQUEST_TYPE");
    }

    // --- 2.2 calls -----------------------------------------------------------------------------------------------------

    static string SomeEnvelope(R2psDevice device, EcPublicKey serverKey) =>
        ClientEnvelope.BuildDeviceRequest(new ClientRequest(device.ClientId, device.Kid, "hsm", ServiceTypes.SessionContextEnd), [], device.Key, serverKey,
            DateTimeOffset.UtcNow).Jws;

    [Fact]
    public async Task Unknown_device_session_is_401_with_the_device_session_challenge()
    {
        using var http = system.CreateClient();
        var device = await RegisteredDeviceAsync(http);
        var key = new byte[32];
        using var response = await PostJoseAsync(http, Service, Wrap(SomeEnvelope(device, system.ServerKey), Hex.Encode(new byte[32]), key), Ct);
        await AssertErrorAsync(response, HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "R2PS-DeviceSession");
    }

    [Fact]
    public async Task Expired_device_session_is_401_with_the_device_session_challenge()
    {
        using var http = system.CreateClient();
        var device = await RegisteredDeviceAsync(http);
        var (sessionId, key) = await EstablishAsync(http, device, system.BffKey, Ct);
        await system.ExpireDeviceSessionAsync(sessionId);
        using var response = await PostJoseAsync(http, Service, Wrap(SomeEnvelope(device, system.ServerKey), sessionId, key), Ct);
        await AssertErrorAsync(response, HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "R2PS-DeviceSession");
    }

    [Fact]
    public async Task Envelope_of_another_client_inside_a_device_session_is_403()
    {
        using var http = system.CreateClient();
        var mine = await RegisteredDeviceAsync(http);
        var theirs = await RegisteredDeviceAsync(http);
        var (sessionId, key) = await EstablishAsync(http, mine, system.BffKey, Ct);
        // PROTOCOL.md 2.2 gives no code for a binding mismatch: ACCESS_DENIED, as for every foreign-session case of 1.2.
        using var response = await PostJoseAsync(http, Service, Wrap(SomeEnvelope(theirs, system.ServerKey), sessionId, key), Ct);
        await AssertErrorAsync(response, HttpStatusCode.Forbidden, "ACCESS_DENIED");
    }

    [Fact]
    public async Task Tampered_wrapping_jwe_is_401_without_the_challenge()
    {
        using var http = system.CreateClient();
        var device = await RegisteredDeviceAsync(http);
        var (sessionId, key) = await EstablishAsync(http, device, system.BffKey, Ct);
        var parts = Wrap(SomeEnvelope(device, system.ServerKey), sessionId, key).Split('.');
        var ciphertext = Base64Url.Decode(parts[3]);
        ciphertext[0] ^= 0x01;
        parts[3] = Base64Url.Encode(ciphertext);
        using var response = await PostJoseAsync(http, Service, string.Join('.', parts), Ct);
        await AssertErrorAsync(response, HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        Assert.DoesNotContain(response.Headers.WwwAuthenticate, h => h.Scheme == "R2PS-DeviceSession");
    }

    [Fact]
    public async Task Wrapping_jwe_without_cty_is_400()
    {
        using var http = system.CreateClient();
        var device = await RegisteredDeviceAsync(http);
        var (sessionId, key) = await EstablishAsync(http, device, system.BffKey, Ct);
        var wrapped = R2ps.Crypto.Jose.Jwe.EncryptDirect(Encoding.ASCII.GetBytes(SomeEnvelope(device, system.ServerKey)), key, ("kid", sessionId));
        using var response = await PostJoseAsync(http, Service, wrapped, Ct);
        await AssertErrorAsync(response, HttpStatusCode.BadRequest, "ILLEGAL_REQUEST_DATA");
    }

    [Theory]
    [InlineData("123")]
    [InlineData("null")]
    [InlineData("[\"x\"]")]
    [InlineData("{\"id\":\"x\"}")]
    public async Task Wrapping_jwe_whose_kid_is_not_a_string_is_400_not_a_server_error(string kidJson)
    {
        // Unauthenticated input: refused as malformed before any session lookup, never an unexpected fault (500).
        using var http = system.CreateClient();
        var header = Base64Url.Encode(Encoding.UTF8.GetBytes("{\"alg\":\"dir\",\"enc\":\"A256GCM\",\"kid\":" + kidJson + ",\"cty\":\"JOSE\"}"));
        var body = header + ".." + Base64Url.Encode(new byte[12]) + "." + Base64Url.Encode(new byte[8]) + "." + Base64Url.Encode(new byte[16]);
        using var response = await PostJoseAsync(http, Service, body, Ct);
        await AssertErrorAsync(response, HttpStatusCode.BadRequest, "ILLEGAL_REQUEST_DATA");
    }

    [Fact]
    public async Task Wrapped_plaintext_that_is_not_an_r2ps_jws_is_400()
    {
        using var http = system.CreateClient();
        var device = await RegisteredDeviceAsync(http);
        var (sessionId, key) = await EstablishAsync(http, device, system.BffKey, Ct);
        using var response = await PostJoseAsync(http, Service, Wrap("not.a.jws", sessionId, key), Ct);
        await AssertErrorAsync(response, HttpStatusCode.BadRequest, "ILLEGAL_REQUEST_DATA");
    }

    [Fact]
    public async Task Body_that_is_not_a_jwe_is_400()
    {
        using var http = system.CreateClient();
        using var response = await PostJoseAsync(http, Service, "garbage", Ct);
        await AssertErrorAsync(response, HttpStatusCode.BadRequest, "ILLEGAL_REQUEST_DATA");
    }

    [Fact]
    public async Task Oversized_body_is_413_with_the_error_body()
    {
        using var http = system.CreateClient();
        using var response = await PostJoseAsync(http, Service, new string('a', BffOptions.DefaultMaxBodyBytes + 1), Ct);
        await AssertErrorAsync(response, HttpStatusCode.RequestEntityTooLarge, "ILLEGAL_REQUEST_DATA");
    }

    [Fact]
    public async Task Oversized_body_without_content_length_is_413_too()
    {
        using var http = system.CreateClient();
        using var content = new StreamContent(new MemoryStream(Encoding.ASCII.GetBytes(new string('a', BffOptions.DefaultMaxBodyBytes + 1))));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/jose");
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(Service, UriKind.Relative)) { Content = content };
        request.Headers.TransferEncodingChunked = true;
        using var response = await http.SendAsync(request, Ct);
        await AssertErrorAsync(response, HttpStatusCode.RequestEntityTooLarge, "ILLEGAL_REQUEST_DATA");
    }

    [Fact]
    public async Task Body_of_exactly_the_limit_is_read_whole_and_judged_on_its_content_not_its_size()
    {
        // With Content-Length. (Chunked, Kestrel counts the chunk framing toward the same limit, so a chunked body must
        // stay a little under it.)
        using var http = system.CreateClient();
        using var response = await PostJoseAsync(http, Service, new string('a', BffOptions.DefaultMaxBodyBytes), Ct);
        // Not 413: the limit is inclusive. 400: the bytes are no compact JOSE.
        await AssertErrorAsync(response, HttpStatusCode.BadRequest, "ILLEGAL_REQUEST_DATA");
    }

    [Fact]
    public async Task Empty_body_is_400()
    {
        using var http = system.CreateClient();
        using var response = await PostJoseAsync(http, Service, string.Empty, Ct);
        await AssertErrorAsync(response, HttpStatusCode.BadRequest, "ILLEGAL_REQUEST_DATA");
    }

    [Fact]
    public async Task Service_call_as_application_json_is_415()
    {
        using var http = system.CreateClient();
        using var response = await PostJsonAsync(http, Service, "{}", Ct);
        await AssertErrorAsync(response, HttpStatusCode.UnsupportedMediaType, "UNSUPPORTED_REQUEST_TYPE");
    }

    [Fact]
    public async Task A_worker_error_passes_through_as_status_and_json()
    {
        using var http = system.CreateClient();
        var device = await RegisteredDeviceAsync(http);
        using var transport = new HttpR2psTransport(http, device, system.BffKey);
        var wallet = new R2psWallet(device, system.ServerKey, transport);
        // No PIN registered: the worker refuses the finalize (UNAUTHORIZED, 401 without the device-session challenge).
        var refused = await Assert.ThrowsAsync<R2psClientException>(() => wallet.LoginAsync("000000", cancellationToken: Ct));
        Assert.Equal(ErrorCode.Unauthorized, refused.Code);
        Assert.Equal(401, refused.HttpStatus);
        Assert.Equal(1, transport.SessionsEstablished); // a worker's 401 does not make the wallet re-establish
    }

    // --- 2.3, 2.4, health, routing ------------------------------------------------------------------------------------

    [Fact]
    public async Task Plain_route_disabled_by_configuration_is_403()
    {
        using var http = system.CreateBareClient();
        using var response = await PostJoseAsync(http, "r2ps/v1/r2ps", "a.b.c", Ct);
        await AssertErrorAsync(response, HttpStatusCode.Forbidden, "ACCESS_DENIED");
    }

    [Fact]
    public async Task Admin_without_a_token_is_401()
    {
        using var http = system.CreateClient();
        using var response = await http.GetAsync(new Uri("admin/v1/clients/a/keys/b", UriKind.Relative), Ct);
        await AssertErrorAsync(response, HttpStatusCode.Unauthorized, "UNAUTHORIZED");
    }

    [Fact]
    public async Task Admin_with_a_wrong_token_is_401()
    {
        using var http = system.CreateClient();
        var device = EmbeddedBff.NewDevice();
        var wrong = await Assert.ThrowsAsync<R2psClientException>(() =>
            new R2psAdminClient(http, EmbeddedBff.AdminToken + "x").RegisterAsync(device.ClientId, device.Kid, device.PublicKey, ["hsm"], Ct));
        Assert.Equal(ErrorCode.Unauthorized, wrong.Code);
        Assert.Equal(401, wrong.HttpStatus);
    }

    [Fact]
    public async Task Admin_api_without_a_configured_token_is_disabled_with_503()
    {
        using var http = system.CreateBareClient();
        var disabled = await Assert.ThrowsAsync<R2psClientException>(() => new R2psAdminClient(http, "any-token-at-all").GetStatusAsync("a", "b", Ct));
        Assert.Equal(ErrorCode.ServiceUnavailable, disabled.Code);
        Assert.Equal(503, disabled.HttpStatus);
    }

    [Fact]
    public async Task Registering_an_active_client_again_is_409()
    {
        using var http = system.CreateClient();
        var device = await RegisteredDeviceAsync(http);
        var again = await Assert.ThrowsAsync<R2psClientException>(() =>
            system.Admin(http).RegisterAsync(device.ClientId, device.Kid, device.PublicKey, ["hsm"], Ct));
        Assert.Equal(ErrorCode.IllegalState, again.Code);
        Assert.Equal(409, again.HttpStatus);
    }

    [Fact]
    public async Task Registering_a_p384_device_key_is_400()
    {
        using var http = system.CreateClient();
        using var key = SoftwareEcKey.Generate(EcCurve.P384);
        var refused = await Assert.ThrowsAsync<R2psClientException>(() =>
            system.Admin(http).RegisterAsync("wallet-" + Guid.NewGuid().ToString("N"), "k1", key.PublicKey, ["hsm"], Ct));
        Assert.Equal(ErrorCode.IllegalRequestData, refused.Code);
    }

    [Fact]
    public async Task Registering_for_an_unknown_context_is_400()
    {
        using var http = system.CreateClient();
        var device = EmbeddedBff.NewDevice();
        var refused = await Assert.ThrowsAsync<R2psClientException>(() =>
            system.Admin(http).RegisterAsync(device.ClientId, device.Kid, device.PublicKey, ["nowhere"], Ct));
        Assert.Equal(ErrorCode.IllegalRequestData, refused.Code);
    }

    [Fact]
    public async Task Registering_with_a_client_id_over_256_characters_is_400()
    {
        using var http = system.CreateClient();
        var device = EmbeddedBff.NewDevice();
        var refused = await Assert.ThrowsAsync<R2psClientException>(() =>
            system.Admin(http).RegisterAsync(new string('c', 257), device.Kid, device.PublicKey, ["hsm"], Ct));
        Assert.Equal(ErrorCode.IllegalRequestData, refused.Code);
    }

    [Fact]
    public async Task Revoking_an_unknown_client_is_403()
    {
        using var http = system.CreateClient();
        var refused = await Assert.ThrowsAsync<R2psClientException>(() => system.Admin(http).RevokeAsync("nobody", "nothing", Ct));
        Assert.Equal(ErrorCode.AccessDenied, refused.Code);
    }

    [Fact]
    public async Task Ready_is_503_when_no_worker_answers()
    {
        using var http = system.CreateBareClient();
        using var response = await http.GetAsync(new Uri("health/ready", UriKind.Relative), Ct);
        await AssertErrorAsync(response, HttpStatusCode.ServiceUnavailable, "SERVICE_UNAVAILABLE");
    }

    [Fact]
    public async Task Unknown_path_is_404_with_the_error_body()
    {
        using var http = system.CreateClient();
        using var response = await http.GetAsync(new Uri("r2ps/v2/nothing", UriKind.Relative), Ct);
        await AssertErrorAsync(response, HttpStatusCode.NotFound, "ILLEGAL_REQUEST_DATA");
    }
}
