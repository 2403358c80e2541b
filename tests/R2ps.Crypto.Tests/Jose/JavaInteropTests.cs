using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using R2ps.Crypto.Ec;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Jose;
using R2ps.Crypto.Keys;
using R2ps.Testing;
using static R2ps.Crypto.Tests.Jose.JoseTestSupport;
using TextEncoding = System.Text.Encoding;

namespace R2ps.Crypto.Tests.Jose;

/// <summary>
/// PROTOCOL.md 3: an `authenticate` evaluate request recorded from the Java reference client (Nimbus JOSE), client
/// a25d8884-c77b-43ab-bf9d-1279c08d860d, kid wallet-hsm-key-1, context hsm, encrypted to the server key in server-key.p12.
/// </summary>
public class JavaInteropTests
{
    // interop/java-recorded/authenticate-request.jws, carried here so the repository stands alone.
    private const string RecordedRequest =
        "eyJ0eXAiOiJKT1NFIiwiYWxnIjoiRVMyNTYifQ"
        + "."
        + "eyJ2ZXIiOiIxLjAiLCJub25jZSI6ImZlZmI5ZDE0N2YxY2ZmM2Y2ZjIxNjE0NDdhOTgxNjgxNjI4YzdkNDdkYzgzMWIxZjI1ZDkw"
        + "MTIwMTkxMDhiNDUiLCJpYXQiOjE3NjI5MzgzNDEsImVuYyI6ImRldmljZSIsImRhdGEiOiJaWGxLYkdOSGMybFBibk5wWVROU05V"
        + "bHFiMmxTVlUxcFRFTkthbU51V1dsUGFVcFJURlJKTVU1cFNYTkpibWRwVDJsS2VsTlhOWGhOYTFWM1ZrZE9lazFIY0RGUFJrVTBW"
        + "MjEzZVU5WE9XdFViSEJJVjI1b1RtTllRa2xWVms1NlpWaHNlbUZWVWxoWU1GWldTV2wzYVdWVFNUWkphMVpSWlVSc1RFMUZUazVP"
        + "YkdoWVZFVldVbE5XVlRWT1JHUk5Za1ZuTTB4VVp6VlRTRnB0Wkhwc1MxVXdTbHBXUlhSSlYxWlpkRkZWYTJsbVUzZHBXVE5TTlVs"
        + "cWIybFpXRUozWWtkc2FsbFlVbkJpTWpSMllqSk9NRnBZVVhSak0xSjVXbGRHZEVscGQybGFWelZxU1dwdmFWRlVTVEZPYTJSRVZG"
        + "TkpjMGx0Um5OYWVVazJTV3RXUkZKRlozUlNWazFwWmxFdUxsUkZaMUZNZGw5SVJqbHRiRkl5ZVRBdVpsVTFkV0ZsZWpWdGRtVTNk"
        + "bXRXYWtwZlgwNXVOUzFvYTBFd1RtaEpTbVJ3TkZoUk56SnNVWGhZYUZwUFNYSlBSa2xrV1RSTWVHOWpMVkF4Ukhnek9IRXpaVVJh"
        + "ZEUxMkxWaGpTa3RaZEV4R1prUjVha0pCVEdSQlQxTlZRVlI2VEUxa2JUSlBkM1ZsU1VsR1pXMXdWMkpGZGxoS2VUSXRlbXB2UVhG"
        + "UVZTMVFkVTgxYTJGUVVEbFpSakJQZGpWelZrOUhWMDFaTVhOS05YVkxUbEZJV21GbVdYRTVOM1pyU25KT1psZFpNWGhCZEhKamJF"
        + "WnphbmxMVFdodlgyTldWMHhsTmxkSU4xRkRMVTFLYkdSaVkyTTVUSE16YXpGMk9USlJMWGxMYlRKU1lrcFlNSEZXZUhack5XTndS"
        + "WFZRTlZFdUxXZHNXSEZMT1hKWlNrWm9XbUpLZVdwdGNrOWFRUT09IiwiY2xpZW50X2lkIjoiYTI1ZDg4ODQtYzc3Yi00M2FiLWJm"
        + "OWQtMTI3OWMwOGQ4NjBkIiwia2lkIjoid2FsbGV0LWhzbS1rZXktMSIsImNvbnRleHQiOiJoc20iLCJ0eXBlIjoiYXV0aGVudGlj"
        + "YXRlIn0"
        + "."
        + "mnplviT3cQnYMr_TFHU1jh24Xte_f5YidMZvl6e9_yOU33gzKEmZqVaoCvs2kasi5c2hNSpA6G1h4lVoirh_Yg";

    // SPKI of interop/java-recorded/client-wallet-hsm.crt (CN=wallet-hsm).
    private const string DeviceSpki = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE233YaUniXpEuNY15ZyJmqi+t4VtHE0BsFyM6fMWvL4xtdiD7u8u2eTZlWsK/XrYPCobERUbPaKUJ9W+l19CWUA==";

    // Compressed public key of the private key in interop/java-recorded/server-key.p12 (CN=HSM-server-key).
    private const string ServerPublicKey = "03a73431b972de88fcb38ad30a41b51254e0f70316fe97d2ea563b391a761a9c0d";

    // The KE1 (RFC 9807 §6.1.1: blinded element 33 ‖ client nonce 32 ‖ client keyshare 33) inside the request.
    private const string Ke1 =
        "028dfa6c436cf2f987db04228f0a1b334f888c31738df6fc9639300467bd9b13b0"
        + "2566c19debc2ca37309a5206180862d68f133c862be50af3f61119e3a4711f4b"
        + "03ee2bb9bd9569777cd07e6275f0da2df2368fad8bb50b5058356bc8e7e68227f9";

    [Fact]
    public void The_shared_recording_is_the_request_carried_here() =>
        Assert.Equal(RecordedRequest, SharedFiles.ReadText("interop/java-recorded/authenticate-request.jws").Trim());

    [Fact]
    public void Recorded_request_verifies_under_the_device_certificate_key()
    {
        using var certificate = X509CertificateLoader.LoadCertificateFromFile(SharedFiles.Path("interop/java-recorded/client-wallet-hsm.crt"));
        using var ecdsa = certificate.GetECDsaPublicKey();
        Assert.NotNull(ecdsa);
        var deviceKey = EcPublicKey.FromDotNet(ecdsa.ExportParameters(false));
        Assert.Equal(DeviceSpki, Base64Std.Encode(deviceKey.ToSpki()));

        var payload = Jws.Verify(RecordedRequest, deviceKey, JwsVerificationOptions.R2ps);

        using var json = JsonDocument.Parse(payload);
        var root = json.RootElement;
        Assert.Equal("1.0", root.GetProperty("ver").GetString());
        Assert.Equal("a25d8884-c77b-43ab-bf9d-1279c08d860d", root.GetProperty("client_id").GetString());
        Assert.Equal("wallet-hsm-key-1", root.GetProperty("kid").GetString());
        Assert.Equal("hsm", root.GetProperty("context").GetString());
        Assert.Equal("authenticate", root.GetProperty("type").GetString());
        Assert.Equal("device", root.GetProperty("enc").GetString());
        Assert.Equal(1762938341, root.GetProperty("iat").GetInt64());
    }

    [Fact]
    public void Recorded_request_header_is_byte_for_byte_the_one_we_sign_with()
    {
        // PROTOCOL.md 1.1: {"typ":"JOSE","alg":"ES256"}; Nimbus writes typ first, as Jws.Sign does.
        Assert.Equal(Jws.R2psHeaderJson, Json(Segment(RecordedRequest, 0)));
        using var key = SoftwareEcKey.Generate(EcCurve.P256);
        Assert.Equal(Segment(RecordedRequest, 0), Segment(Jws.Sign("{}"u8, key), 0));
    }

    [Fact]
    public void Recorded_request_with_a_changed_payload_does_not_verify()
    {
        var deviceKey = EcPublicKey.FromSpki(Base64Std.Decode(DeviceSpki));
        var payload = JwsCompact.Parse(RecordedRequest).GetUnverifiedPayload();
        var changed = TextEncoding.UTF8.GetString(payload).Replace("\"context\":\"hsm\"", "\"context\":\"sign\"", StringComparison.Ordinal);
        Rejects(JoseError.InvalidSignature, () => Jws.Verify(WithSegment(RecordedRequest, 1, B64(changed)), deviceKey, JwsVerificationOptions.R2ps));
    }

    [Fact]
    public void Recorded_request_data_decrypts_with_the_server_key_to_a_98_byte_KE1()
    {
        using var server = LoadServerKey();
        Assert.Equal(ServerPublicKey, Hex.Encode(server.PublicKey.ToCompressed()));

        var jwe = RecordedDataJwe();
        Assert.Equal(JweAlgorithm.EcdhEs, jwe.Algorithm);
        Assert.Equal(JweEncryption.A256GCM, jwe.Encryption);
        var plaintext = jwe.DecryptEcdhEs(server);

        using var json = JsonDocument.Parse(plaintext);
        var root = json.RootElement;
        Assert.Equal("opaque", root.GetProperty("protocol").GetString());
        Assert.Equal("evaluate", root.GetProperty("state").GetString());
        var ke1 = Base64Std.Decode(root.GetProperty("req").GetString()!);
        Assert.Equal(98, ke1.Length);
        Assert.Equal(Ke1, Hex.Encode(ke1));
    }

    [Fact]
    public void Recorded_data_header_has_the_member_order_we_write()
    {
        // PROTOCOL.md 1.3: {"epk":{"kty","crv","x","y"},"cty":"application/octet-stream","enc":"A256GCM","alg":"ECDH-ES"}.
        var recorded = RecordedDataJwe().Header;
        using var server = LoadServerKey();
        var ours = JweCompact.Parse(Jwe.EncryptEcdhEs("x"u8, server.PublicKey)).Header;

        Assert.Equal(MemberOrder(recorded), MemberOrder(ours));
        Assert.Equal("application/octet-stream", recorded.GetString("cty"));
    }

    [Fact]
    public void Recorded_data_does_not_decrypt_with_another_key()
    {
        using var other = SoftwareEcKey.Generate(EcCurve.P256);
        Rejects(JoseError.DecryptionFailed, () => RecordedDataJwe().DecryptEcdhEs(other));
    }

    private static SoftwareEcKey LoadServerKey()
    {
        using var certificate = X509CertificateLoader.LoadPkcs12FromFile(
            SharedFiles.Path("interop/java-recorded/server-key.p12"), "Test1234", X509KeyStorageFlags.Exportable);
        using var ecdsa = certificate.GetECDsaPrivateKey() ?? throw new CryptographicException("server-key.p12 holds no EC private key.");
        return SoftwareEcKey.FromDotNet(ecdsa);
    }

    /// <summary>PROTOCOL.md 1.1: <c>data</c> is base64 of the ASCII of a compact JWE.</summary>
    private static JweCompact RecordedDataJwe()
    {
        using var json = JsonDocument.Parse(JwsCompact.Parse(RecordedRequest).GetUnverifiedPayload());
        var data = Base64Std.Decode(json.RootElement.GetProperty("data").GetString()!);
        return JweCompact.Parse(TextEncoding.ASCII.GetString(data));
    }

    private static string[] MemberOrder(JoseHeader header)
    {
        using var json = JsonDocument.Parse(header.ToUtf8());
        return [.. json.RootElement.EnumerateObject().SelectMany(p =>
            p.Value.ValueKind == JsonValueKind.Object ? [p.Name, .. p.Value.EnumerateObject().Select(q => p.Name + "." + q.Name)] : new[] { p.Name })];
    }
}
