using System.Text.Json;
using R2ps.Crypto.Ec;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Jose;
using R2ps.Crypto.Keys;
using R2ps.Protocol;
using R2ps.Protocol.Envelopes;
using R2ps.Testing;

namespace R2ps.Service.Tests;

/// <summary>The envelope codec of PROTOCOL.md 1.1–1.3 on its own: client build ↔ server open and back.</summary>
public class EnvelopeCodecTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_760_000_000);

    [Fact]
    public void A_client_request_has_the_member_order_and_nonce_form_of_the_java_reference()
    {
        using var device = SoftwareEcKey.Generate(EcCurve.P256);
        using var server = SoftwareEcKey.Generate(EcCurve.P256);
        var sent = ClientEnvelope.BuildDeviceRequest(new ClientRequest("c1", "k1", "hsm", ServiceTypes.Authenticate), "{}"u8, device, server.PublicKey, Now);

        Assert.Equal(MemberOrder(Recorded()), MemberOrder(sent.Jws));
        Assert.True(Hex.IsLowerHex(sent.Nonce, 32));
        Assert.StartsWith("eyJ0eXAiOiJKT1NFIiwiYWxnIjoiRVMyNTYifQ.", sent.Jws, StringComparison.Ordinal); // {"typ":"JOSE","alg":"ES256"}
    }

    [Fact]
    public void A_device_request_round_trips_and_its_response_opens_on_the_client()
    {
        using var device = SoftwareEcKey.Generate(EcCurve.P256);
        using var server = SoftwareEcKey.Generate(EcCurve.P256);
        var sent = ClientEnvelope.BuildDeviceRequest(new ClientRequest("c1", "k1", "hsm", ServiceTypes.Authenticate), "hello"u8, device, server.PublicKey, Now);

        var request = ServerEnvelope.Parse(sent.Jws, 65536);
        ServerEnvelope.VerifySignature(request, device.PublicKey);
        Assert.Equal("hello"u8.ToArray(), ServerEnvelope.DecryptDeviceData(request.Payload, server));

        var response = ServerEnvelope.SealDeviceResponse(request.Payload, "world"u8, device.PublicKey, server, Now);
        Assert.Equal("world"u8.ToArray(), ClientEnvelope.OpenDeviceResponse(response, sent, server.PublicKey, device, Now));
    }

    [Fact]
    public void A_user_request_round_trips_under_the_session_key()
    {
        using var device = SoftwareEcKey.Generate(EcCurve.P256);
        using var server = SoftwareEcKey.Generate(EcCurve.P256);
        var sessionKey = new byte[32];
        sessionKey[0] = 7;
        var sent = ClientEnvelope.BuildUserRequest(new ClientRequest("c1", "k1", "hsm", ServiceTypes.HsmListKeys, new string('a', 64)), "{}"u8, device, sessionKey, Now);
        var request = ServerEnvelope.Parse(sent.Jws, 65536);
        Assert.Equal(EncryptionMode.User, request.Mode);
        Assert.Equal("{}"u8.ToArray(), ServerEnvelope.DecryptUserData(request.Payload, sessionKey));

        var wrongKey = new byte[32];
        Assert.Equal(ErrorCode.AccessDenied, Assert.Throws<R2psException>(() => ServerEnvelope.DecryptUserData(request.Payload, wrongKey)).Code);
    }

    [Fact]
    public void A_response_with_another_nonce_a_stale_iat_or_a_foreign_signature_is_rejected_by_the_client()
    {
        using var device = SoftwareEcKey.Generate(EcCurve.P256);
        using var server = SoftwareEcKey.Generate(EcCurve.P256);
        using var impostor = SoftwareEcKey.Generate(EcCurve.P256);
        var sent = ClientEnvelope.BuildDeviceRequest(new ClientRequest("c1", "k1", "hsm", ServiceTypes.Authenticate), "x"u8, device, server.PublicKey, Now);
        var request = ServerEnvelope.Parse(sent.Jws, 65536).Payload;

        var otherNonce = ServerEnvelope.SealDeviceResponse(request with { Nonce = ClientEnvelope.NewNonce() }, "y"u8, device.PublicKey, server, Now);
        Assert.Throws<ClientEnvelopeException>(() => ClientEnvelope.OpenDeviceResponse(otherNonce, sent, server.PublicKey, device, Now));

        // PROTOCOL.md 1.2: at most 30 s old, at most 5 s ahead.
        var stale = ServerEnvelope.SealDeviceResponse(request, "y"u8, device.PublicKey, server, Now - TimeSpan.FromSeconds(31));
        Assert.Throws<ClientEnvelopeException>(() => ClientEnvelope.OpenDeviceResponse(stale, sent, server.PublicKey, device, Now));
        var ahead = ServerEnvelope.SealDeviceResponse(request, "y"u8, device.PublicKey, server, Now + TimeSpan.FromSeconds(6));
        Assert.Throws<ClientEnvelopeException>(() => ClientEnvelope.OpenDeviceResponse(ahead, sent, server.PublicKey, device, Now));

        var forged = ServerEnvelope.SealDeviceResponse(request, "y"u8, device.PublicKey, impostor, Now);
        Assert.Throws<ClientEnvelopeException>(() => ClientEnvelope.OpenDeviceResponse(forged, sent, server.PublicKey, device, Now));
    }

    [Fact]
    public void A_signature_by_another_key_is_access_denied_and_an_es384_header_is_illegal_request_data()
    {
        using var device = SoftwareEcKey.Generate(EcCurve.P256);
        using var other = SoftwareEcKey.Generate(EcCurve.P256);
        using var p384 = SoftwareEcKey.Generate(EcCurve.P384);
        using var server = SoftwareEcKey.Generate(EcCurve.P256);
        var sent = ClientEnvelope.BuildDeviceRequest(new ClientRequest("c1", "k1", "hsm", ServiceTypes.Authenticate), "x"u8, device, server.PublicKey, Now);
        var request = ServerEnvelope.Parse(sent.Jws, 65536);
        Assert.Equal(ErrorCode.AccessDenied, Assert.Throws<R2psException>(() => ServerEnvelope.VerifySignature(request, other.PublicKey)).Code);

        var es384 = Jws.Sign(JwsCompact.Parse(sent.Jws).GetUnverifiedPayload(), p384);
        Assert.Equal(ErrorCode.IllegalRequestData, Assert.Throws<R2psException>(() => ServerEnvelope.Parse(es384, 65536)).Code);
    }

    [Fact]
    public void Base64_plus_stays_unescaped_in_envelope_json_as_the_java_reference_writes_it()
    {
        var json = System.Text.Encoding.UTF8.GetString(EnvelopeJson.Serialize(new ErrorBody("X", "a+b/c=")));
        Assert.Equal("""{"error_code":"X","error_message":"a+b/c="}""", json);
    }

    private static string Recorded() => SharedFiles.ReadText("interop/java-recorded/authenticate-request.jws").Trim();

    private static string[] MemberOrder(string jws)
    {
        using var json = JsonDocument.Parse(JwsCompact.Parse(jws).GetUnverifiedPayload());
        return [.. json.RootElement.EnumerateObject().Select(p => p.Name)];
    }
}
