using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Jose;
using R2ps.Crypto.Keys;
using R2ps.Protocol;
using R2ps.Protocol.Envelopes;
using R2ps.Protocol.Payloads;
using R2ps.Service.Ports;
using R2ps.Testing;

namespace R2ps.Service.Tests;

/// <summary>
/// PROTOCOL.md 3: the <c>authenticate</c> evaluate recorded from the Java reference client (interop/java-recorded/),
/// served by our core holding that server key and that client registration.
/// </summary>
public class JavaInteropTests
{
    private const string ClientId = "a25d8884-c77b-43ab-bf9d-1279c08d860d";
    private const string Kid = "wallet-hsm-key-1";
    private const long RecordedIat = 1762938341;
    private const string RecordedNonce = "fefb9d147f1cff3f6f2161447a981681628c7d47dc831b1f25d9012019108b45";

    // SPKI of interop/java-recorded/client-wallet-hsm.crt (CN=wallet-hsm).
    private const string DeviceSpki = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE233YaUniXpEuNY15ZyJmqi+t4VtHE0BsFyM6fMWvL4xtdiD7u8u2eTZlWsK/XrYPCobERUbPaKUJ9W+l19CWUA==";

    // The KE1 inside the request (RFC 9807 §6.1.1: blinded element 33 ‖ client nonce 32 ‖ client keyshare 33).
    private const string Ke1 =
        "028dfa6c436cf2f987db04228f0a1b334f888c31738df6fc9639300467bd9b13b0"
        + "2566c19debc2ca37309a5206180862d68f133c862be50af3f61119e3a4711f4b"
        + "03ee2bb9bd9569777cd07e6275f0da2df2368fad8bb50b5058356bc8e7e68227f9";

    [Fact]
    public void The_recorded_request_verifies_and_decrypts_to_a_98_byte_ke1()
    {
        using var serverKey = LoadServerKey();
        var request = ServerEnvelope.Parse(Recorded(), ProtocolConstants.DefaultMaxEnvelopeBytes);
        Assert.Equal(ServiceTypes.Authenticate, request.Payload.Type);
        Assert.Equal(EncryptionMode.Device, request.Mode);
        ServerEnvelope.VerifySignature(request, EcPublicKey.FromSpki(Base64Std.Decode(DeviceSpki)));
        var pake = R2psJson.Deserialize<PakeRequest>(ServerEnvelope.DecryptDeviceData(request.Payload, serverKey), "PAKE request");
        Assert.Equal((PakeRequest.Opaque, PakeRequest.Evaluate), (pake.Protocol, pake.State));
        Assert.Equal(Ke1, Hex.Encode(Base64Std.Decode(pake.Req)));
    }

    [Fact]
    public async Task The_recorded_request_gets_a_signed_response_with_a_ke2_from_the_fake_record_path()
    {
        var serverKey = LoadServerKey();
        using var harness = new ServiceHarness(serverKey: serverKey, start: DateTimeOffset.FromUnixTimeSeconds(RecordedIat));
        harness.Store.Register(ClientId, Kid, EcPublicKey.FromSpki(Base64Std.Decode(DeviceSpki)), "hsm");

        var reply = await harness.SendRawAsync(Recorded());
        Assert.Equal(200, reply.Status);

        // The wallet-side codec checks it: server signature, nonce echo, enc echo, iat window.
        var sent = new SealedClientRequest(Recorded(), RecordedNonce, ProtocolConstants.EncDevice, EncryptionMode.Device);
        var jwe = ClientEnvelope.ReadResponse(reply.Body, sent, serverKey.PublicKey, harness.Time.GetUtcNow());
        Assert.Equal(JweAlgorithm.EcdhEs, jwe.Algorithm);
        Assert.Equal(JweEncryption.A256GCM, jwe.Encryption);
        Assert.Equal(Jwe.OctetStreamContentType, jwe.Header.GetString("cty"));
        // The plaintext is {"pake_session_id":<64 hex>,"resp":<base64 of the 259-byte KE2>}: 20 + 64 + 10 + 348 + 2 bytes.
        var ciphertext = Base64Url.Decode(EnvelopeData.Unwrap(ResponseData(reply.Body)).Split('.')[3]);
        Assert.Equal(444, ciphertext.Length);

        // No OPAQUE record exists, yet a pending login was begun, bound to the recorded client: the fake-record path.
        Assert.Null(harness.Store.RecordOf(ClientId, Kid));
        var audit = harness.Store.AuditRecords.Single();
        Assert.Equal(("OK", true), (audit.Outcome, audit.Authenticated));
        var pending = harness.Sessions.Get(PendingId(harness));
        Assert.NotNull(pending);
        Assert.Equal((SignSessionPhase.PendingLogin, ClientId, Kid, "hsm"), (pending.Phase, pending.ClientId, pending.Kid, pending.Context));
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(RecordedIat) + TimeSpan.FromSeconds(10), pending.LoginExpiresAt);
    }

    [Fact]
    public async Task The_recorded_request_is_refused_outside_its_iat_window()
    {
        using var harness = new ServiceHarness(serverKey: LoadServerKey(), start: DateTimeOffset.FromUnixTimeSeconds(RecordedIat + 31));
        harness.Store.Register(ClientId, Kid, EcPublicKey.FromSpki(Base64Std.Decode(DeviceSpki)), "hsm");
        var reply = await harness.SendRawAsync(Recorded());
        Assert.Equal("ACCESS_DENIED", ServiceHarness.ReadError(reply).ErrorCode);
    }

    private static string Recorded() => SharedFiles.ReadText("interop/java-recorded/authenticate-request.jws").Trim();

    private static string ResponseData(string responseJws) =>
        R2psJson.Deserialize<ServiceResponsePayload>(JwsCompact.Parse(responseJws).GetUnverifiedPayload(), "response").Data;

    private static string PendingId(ServiceHarness harness) =>
        harness.Sessions.FindByPrefix(harness.Store.AuditRecords.Single().SessionRef ?? throw new InvalidOperationException("No session was audited."));

    private static SoftwareEcKey LoadServerKey()
    {
        using var certificate = X509CertificateLoader.LoadPkcs12FromFile(
            SharedFiles.Path("interop/java-recorded/server-key.p12"), "Test1234", X509KeyStorageFlags.Exportable);
        using var ecdsa = certificate.GetECDsaPrivateKey() ?? throw new CryptographicException("server-key.p12 holds no EC private key.");
        return SoftwareEcKey.FromDotNet(ecdsa);
    }
}
