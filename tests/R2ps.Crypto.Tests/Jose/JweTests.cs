using System.Text.Json;
using R2ps.Crypto.Ec;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Jose;
using R2ps.Crypto.Keys;
using R2ps.Testing;
using static R2ps.Crypto.Tests.Jose.JoseTestSupport;
using TextEncoding = System.Text.Encoding;

namespace R2ps.Crypto.Tests.Jose;

public class JweTests
{
    // RFC 7520 §5.6: dir + A128GCM, key "XctOhJAkA-pD9Lh7ZgW_2A", header {"alg":"dir","kid":"77c7e2b8-…","enc":"A128GCM"}.
    internal const string Rfc7520Key = "XctOhJAkA-pD9Lh7ZgW_2A";
    internal const string Rfc7520Compact =
        "eyJhbGciOiJkaXIiLCJraWQiOiI3N2M3ZTJiOC02ZTEzLTQ1Y2YtODY3Mi02MTdiNWI0NTI0M2EiLCJlbmMiOiJBMTI4R0NNIn0"
        + "."
        + ".refa467QzzKx6QAB"
        + ".JW_i_f52hww_ELQPGaYyeAB6HYGcR559l9TYnSovc23XJoBcW29rHP8yZOZG7YhLpT1bjFuvZPjQS-m0IF"
        + "tVcXkZXdH_lr_FrdYt9HRUYkshtrMmIUAyGmUnd9zMDB2n0cRDIHAzFVeJUDxkUwVAE7_YGRPdcqMyiBoCO-FBdE-Nceb4h3-FtB"
        + "P-c_BIwCPTjb9o0SbdcdREEMJMyZBH8ySWMVi1gPD9yxi-aQpGbSv_F9N4IZAxscj5g-NJsUPbjk29-s7LJAGb15wEBtXphVCgyy"
        + "53CoIKLHHeJHXex45Uz9aKZSRSInZI-wjsY0yu3cT4_aQ3i1o-tiE-F8Ios61EKgyIQ4CWao8PFMj8TTnp"
        + ".vbb32Xvllea2OtmHAdccRQ";

    internal const string Rfc7520Plaintext =
        "You can trust us to stick with you through thick and thin\u2013to the bitter end. And you can trust us to keep any "
        + "secret of yours\u2013closer than you keep it yourself. But you cannot trust us to let you face trouble alone, and go "
        + "off without a word. We are your friends, Frodo.";

    // RFC 7520 §5.5 protected header: ECDH-ES with enc A128CBC-HS256.
    private const string Rfc7520Section5_5Header =
        "eyJhbGciOiJFQ0RILUVTIiwia2lkIjoibWVyaWFkb2MuYnJhbmR5YnVja0BidWNrbGFuZC5leGFtcGxlIiwiZXBrIjp7Imt0eSI6IkVDIiwiY3J2"
        + "IjoiUC0yNTYiLCJ4IjoibVBVS1RfYkFXR0hJaGcwVHBqanFWc1AxclhXUXVfdndWT0hIdE5rZFlvQSIsInkiOiI4QlFBc0ltR2VBUzQ2ZnlXdzVN"
        + "aFlmR1RUMElqQnBGdzJTUzM0RHY0SXJzIn0sImVuYyI6IkExMjhDQkMtSFMyNTYifQ";

    // RFC 7520 §5.8 protected header and encrypted key: A128KW with A128GCM.
    private const string Rfc7520Section5_8Header =
        "eyJhbGciOiJBMTI4S1ciLCJraWQiOiI4MWIyMDk2NS04MzMyLTQzZDktYTQ2OC04MjE2MGFkOTFhYzgiLCJlbmMiOiJBMTI4R0NNIn0";

    private const string Rfc7520Section5_8EncryptedKey = "CBI6oDw8MydIx1IBntf_lQcw2MmJKIQx";

    private static readonly byte[] SessionKey = Convert.FromHexString("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");

    [Fact]
    public void Rfc7520_section_5_6_dir_A128GCM_decrypts()
    {
        var plaintext = Jwe.DecryptDirect(Rfc7520Compact, Base64Url.Decode(Rfc7520Key), JweEncryption.A128GCM);
        Assert.Equal(Rfc7520Plaintext, TextEncoding.UTF8.GetString(plaintext));
    }

    [Fact]
    public void Rfc7520_section_5_6_is_refused_when_A256GCM_is_expected()
    {
        // The caller fixes enc; a sender cannot downgrade R2PS to A128GCM.
        Rejects(JoseError.UnsupportedEncryption, () => Jwe.DecryptDirect(Rfc7520Compact, SessionKey));
    }

    [Fact]
    public void Shared_vector_file_section_5_6_decrypts()
    {
        using var vector = SharedFiles.ReadJson("vectors/jose_rfc7520_selected.json");
        var example = vector.RootElement.GetProperty("examples").GetProperty("5.6");
        var plaintext = Jwe.DecryptDirect(
            example.GetProperty("output").GetProperty("compact").GetString()!,
            Base64Url.Decode(example.GetProperty("input").GetProperty("key").GetProperty("k").GetString()!),
            JweEncryption.A128GCM);
        Assert.Equal(example.GetProperty("input").GetProperty("plaintext").GetString(), TextEncoding.UTF8.GetString(plaintext));
    }

    [Fact]
    public void Dir_round_trips_with_the_R2ps_user_type_header()
    {
        // PROTOCOL.md 1.3: header {"enc":"A256GCM","alg":"dir"}, empty encrypted key, 96-bit IV, 128-bit tag.
        var compact = Jwe.EncryptDirect("{\"curve\":\"P-256\"}"u8, SessionKey);

        Assert.Equal("{\"enc\":\"A256GCM\",\"alg\":\"dir\"}", Json(Segment(compact, 0)));
        Assert.Equal("eyJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiZGlyIn0", Segment(compact, 0));
        Assert.Empty(Segment(compact, 1));
        Assert.Equal(12, Base64Url.Decode(Segment(compact, 2)).Length);
        Assert.Equal(16, Base64Url.Decode(Segment(compact, 4)).Length);
        Assert.Equal("{\"curve\":\"P-256\"}"u8.ToArray(), Jwe.DecryptDirect(compact, SessionKey));
    }

    [Fact]
    public void Dir_with_kid_and_cty_writes_the_BFF_header_in_protocol_order()
    {
        // PROTOCOL.md 2.2: {"alg":"dir","enc":"A256GCM","kid":session_id,"cty":"JOSE"}.
        const string sessionId = "5855db90562035cc3999c0dd1b5a5141b16f6180b8e573ce2699536dcbeb75f7";
        var compact = Jwe.EncryptDirect("envelope"u8, SessionKey, ("kid", sessionId), ("cty", "JOSE"));

        Assert.Equal($"{{\"alg\":\"dir\",\"enc\":\"A256GCM\",\"kid\":\"{sessionId}\",\"cty\":\"JOSE\"}}", Json(Segment(compact, 0)));
        var jwe = JweCompact.Parse(compact);
        Assert.Equal(sessionId, jwe.Header.GetString("kid"));
        Assert.Equal("envelope"u8.ToArray(), jwe.DecryptDirect(SessionKey));
    }

    [Fact]
    public void Dir_with_kid_only_writes_the_confirmation_header()
    {
        // PROTOCOL.md 2.1: {"alg":"dir","enc":"A256GCM","kid":session_id}.
        var compact = Jwe.EncryptDirect("{}"u8, SessionKey, ("kid", "abc"));
        Assert.Equal("{\"alg\":\"dir\",\"enc\":\"A256GCM\",\"kid\":\"abc\"}", Json(Segment(compact, 0)));
    }

    [Fact]
    public void Every_message_gets_a_fresh_IV()
    {
        var first = Jwe.EncryptDirect("same"u8, SessionKey);
        var second = Jwe.EncryptDirect("same"u8, SessionKey);
        Assert.NotEqual(Segment(first, 2), Segment(second, 2));
        Assert.NotEqual(Segment(first, 3), Segment(second, 3));
    }

    [Theory]
    [InlineData("alg")]
    [InlineData("enc")]
    [InlineData("zip")]
    [InlineData("crit")]
    [InlineData("epk")]
    public void Extra_header_members_cannot_override_processing_members(string name) =>
        Assert.Throws<ArgumentException>(() => Jwe.EncryptDirect("x"u8, SessionKey, (name, "v")));

    [Fact]
    public void Extra_header_members_cannot_repeat() =>
        Assert.Throws<ArgumentException>(() => Jwe.EncryptDirect("x"u8, SessionKey, ("kid", "a"), ("kid", "b")));

    [Theory]
    [InlineData(16)]
    [InlineData(31)]
    [InlineData(33)]
    public void A_dir_key_that_is_not_32_bytes_is_refused(int length)
    {
        Rejects(JoseError.InvalidKey, () => Jwe.EncryptDirect("x"u8, new byte[length]));
        var compact = Jwe.EncryptDirect("x"u8, SessionKey);
        Rejects(JoseError.InvalidKey, () => Jwe.DecryptDirect(compact, new byte[length]));
    }

    [Fact]
    public void Dir_with_the_wrong_key_fails_to_decrypt()
    {
        var compact = Jwe.EncryptDirect("x"u8, SessionKey);
        var e = Rejects(JoseError.DecryptionFailed, () => Jwe.DecryptDirect(compact, new byte[32]));
        // Messages carry no key material.
        Assert.DoesNotContain(Hex.Encode(SessionKey), e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(Base64Url.Encode(SessionKey), e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("P-256")]
    [InlineData("P-384")]
    [InlineData("P-521")]
    public void Ecdh_es_round_trips_on_every_curve(string curveName)
    {
        var curve = EcCurve.FromName(curveName);
        using var recipient = SoftwareEcKey.Generate(curve);
        var compact = Jwe.EncryptEcdhEs("{\"protocol\":\"opaque\"}"u8, recipient.PublicKey);

        var jwe = JweCompact.Parse(compact);
        Assert.Equal(JweAlgorithm.EcdhEs, jwe.Algorithm);
        Assert.True(jwe.Header.TryGetMember("epk", out var epk));
        Assert.Equal(curveName, epk.GetProperty("crv").GetString());
        Assert.Equal(curve.FieldSize, Base64Url.Decode(epk.GetProperty("x").GetString()!).Length);
        Assert.Equal("{\"protocol\":\"opaque\"}"u8.ToArray(), jwe.DecryptEcdhEs(recipient));
    }

    [Theory]
    [InlineData("P-256")]
    [InlineData("P-384")]
    [InlineData("P-521")]
    public async Task Ecdh_es_decrypts_with_an_asynchronous_key_through_one_asynchronous_agreement(string curveName)
    {
        using var inner = SoftwareEcKey.Generate(EcCurve.FromName(curveName));
        var recipient = new AsyncOnlyKey(inner);
        var compact = Jwe.EncryptEcdhEs("{\"protocol\":\"opaque\"}"u8, recipient.PublicKey);

        var plaintext = await JweCompact.Parse(compact).DecryptEcdhEsAsync(recipient, JweEncryption.A256GCM, TestContext.Current.CancellationToken);

        Assert.Equal("{\"protocol\":\"opaque\"}"u8.ToArray(), plaintext);
        Assert.Equal(1, recipient.AsyncAgreements);
        // A software key takes the synchronous path and decrypts the same.
        Assert.Equal(plaintext, await JweCompact.Parse(compact).DecryptEcdhEsAsync(inner, JweEncryption.A256GCM, TestContext.Current.CancellationToken));
    }

    [Fact]
    public void Ecdh_es_writes_the_R2ps_device_type_header()
    {
        // PROTOCOL.md 1.3: {"epk":{"kty":"EC","crv":"P-256","x":…,"y":…},"cty":"application/octet-stream","enc":"A256GCM","alg":"ECDH-ES"}.
        using var recipient = SoftwareEcKey.Generate(EcCurve.P256);
        var compact = Jwe.EncryptEcdhEs("x"u8, recipient.PublicKey);

        using var header = JsonDocument.Parse(Json(Segment(compact, 0)));
        Assert.Equal(["epk", "cty", "enc", "alg"], header.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(["kty", "crv", "x", "y"], header.RootElement.GetProperty("epk").EnumerateObject().Select(p => p.Name));
        Assert.Equal("application/octet-stream", header.RootElement.GetProperty("cty").GetString());
        Assert.Equal("A256GCM", header.RootElement.GetProperty("enc").GetString());
        Assert.Equal("ECDH-ES", header.RootElement.GetProperty("alg").GetString());
        Assert.Empty(Segment(compact, 1));
    }

    [Fact]
    public void Ecdh_es_uses_a_fresh_ephemeral_key_per_message()
    {
        using var recipient = SoftwareEcKey.Generate(EcCurve.P256);
        Assert.NotEqual(Segment(Jwe.EncryptEcdhEs("x"u8, recipient.PublicKey), 0), Segment(Jwe.EncryptEcdhEs("x"u8, recipient.PublicKey), 0));
    }

    [Fact]
    public void Ecdh_es_to_one_key_from_many_threads_gives_each_message_its_own_ephemeral_key_and_content()
    {
        // The recipient's .NET key object is pooled per public key (rented by one caller at a time): concurrent
        // encryptions must still each get a fresh epk and decrypt to their own plaintext.
        using var recipient = SoftwareEcKey.Generate(EcCurve.P256);
        var messages = Enumerable.Range(0, 64).Select(i => TextEncoding.ASCII.GetBytes($"message {i}")).ToArray();

        var compacts = new string[messages.Length];
        Parallel.For(0, messages.Length, new ParallelOptions { MaxDegreeOfParallelism = 16 }, i => compacts[i] = Jwe.EncryptEcdhEs(messages[i], recipient.PublicKey));

        Assert.Equal(messages.Length, compacts.Select(c => Segment(c, 0)).Distinct().Count());
        for (var i = 0; i < messages.Length; i++) Assert.Equal(messages[i], JweCompact.Parse(compacts[i]).DecryptEcdhEs(recipient));
    }

    [Fact]
    public void Ecdh_es_party_infos_go_into_the_header_and_the_KDF()
    {
        using var recipient = SoftwareEcKey.Generate(EcCurve.P256);
        var compact = Jwe.EncryptEcdhEs("x"u8, recipient.PublicKey, contentType: null, partyUInfo: "Alice"u8, partyVInfo: "Bob"u8);

        var jwe = JweCompact.Parse(compact);
        Assert.Equal("QWxpY2U", jwe.Header.GetString("apu"));
        Assert.Equal("Qm9i", jwe.Header.GetString("apv"));
        Assert.False(jwe.Header.Contains("cty"));
        Assert.Equal("x"u8.ToArray(), jwe.DecryptEcdhEs(recipient));

        // Dropping apv changes the derived key (and the AAD): the JWE no longer opens.
        var headerWithoutApv = TextEncoding.UTF8.GetString(jwe.Header.ToUtf8()).Replace(",\"apv\":\"Qm9i\"", "", StringComparison.Ordinal);
        Rejects(JoseError.DecryptionFailed, () => Jwe.DecryptEcdhEs(WithSegment(compact, 0, B64(headerWithoutApv)), recipient));
    }

    [Fact]
    public void A_dir_JWE_is_refused_where_ECDH_ES_is_expected_and_the_reverse()
    {
        using var recipient = SoftwareEcKey.Generate(EcCurve.P256);
        Rejects(JoseError.UnsupportedAlgorithm, () => Jwe.DecryptEcdhEs(Jwe.EncryptDirect("x"u8, SessionKey), recipient));
        Rejects(JoseError.UnsupportedAlgorithm, () => Jwe.DecryptDirect(Jwe.EncryptEcdhEs("x"u8, recipient.PublicKey), SessionKey));
    }

    [Fact]
    public void Rfc7520_section_5_8_key_wrap_algorithm_is_not_accepted()
    {
        // RFC 7520 §5.8: alg A128KW.
        var compact = Rfc7520Section5_8Header + "." + Rfc7520Section5_8EncryptedKey + Rfc7520Compact[Rfc7520Compact.IndexOf("..", StringComparison.Ordinal)..][1..];
        Rejects(JoseError.UnsupportedAlgorithm, () => JweCompact.Parse(compact));
    }

    [Fact]
    public void Rfc7520_section_5_5_CBC_HMAC_content_encryption_is_not_accepted()
    {
        // RFC 7520 §5.5: ECDH-ES with enc A128CBC-HS256.
        Rejects(JoseError.UnsupportedEncryption, () => JweCompact.Parse(WithSegment(Rfc7520Compact, 0, Rfc7520Section5_5Header)));
    }

    [Theory]
    [InlineData("{\"alg\":\"dir\",\"enc\":\"A256GCM\",\"zip\":\"DEF\"}")]
    [InlineData("{\"alg\":\"dir\",\"enc\":\"A256GCM\",\"crit\":[\"exp\"],\"exp\":1}")]
    [InlineData("{\"alg\":\"dir\",\"enc\":\"A256GCM\",\"apu\":\"QWxpY2U\"}")]
    public void Headers_with_unsupported_or_misplaced_parameters_are_rejected(string header) =>
        Rejects(JoseError.UnsupportedHeaderParameter, () => JweCompact.Parse(WithSegment(Jwe.EncryptDirect("x"u8, SessionKey), 0, B64(header))));

    [Theory]
    [InlineData("{\"enc\":\"A256GCM\"}")]
    [InlineData("{\"alg\":\"dir\"}")]
    [InlineData("{\"alg\":\"dir\",\"enc\":1}")]
    public void Headers_without_string_alg_and_enc_are_rejected(string header) =>
        Rejects(JoseError.InvalidHeader, () => JweCompact.Parse(WithSegment(Jwe.EncryptDirect("x"u8, SessionKey), 0, B64(header))));

    [Theory]
    [InlineData(8)]
    [InlineData(16)]
    public void An_IV_that_is_not_96_bits_is_rejected(int length) =>
        Rejects(JoseError.InvalidIv, () => JweCompact.Parse(WithSegment(Jwe.EncryptDirect("x"u8, SessionKey), 2, Base64Url.Encode(new byte[length]))));

    [Fact]
    public void A_JWE_with_four_or_six_segments_is_rejected()
    {
        var compact = Jwe.EncryptDirect("x"u8, SessionKey);
        Rejects(JoseError.MalformedCompact, () => JweCompact.Parse(compact[..compact.LastIndexOf('.')]));
        Rejects(JoseError.MalformedCompact, () => JweCompact.Parse(compact + ".AAAA"));
    }

    [Fact]
    public void A_JWE_over_the_limit_is_rejected_and_the_limit_is_configurable()
    {
        var compact = Jwe.EncryptDirect(new byte[60 * 1024], SessionKey);
        Rejects(JoseError.InputTooLarge, () => Jwe.DecryptDirect(compact, SessionKey));
        var larger = new JoseLimits { MaxCompactLength = 96 * 1024 };
        Assert.Equal(60 * 1024, Jwe.DecryptDirect(compact, SessionKey, limits: larger).Length);
    }

    [Theory]
    [InlineData("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"X\",\"y\":\"Y\",\"d\":\"AAAA\"}")] // private key member
    [InlineData("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"X\"}")] // no y
    [InlineData("{\"kty\":\"OKP\",\"crv\":\"P-256\",\"x\":\"X\",\"y\":\"Y\"}")] // not EC
    [InlineData("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"X\",\"y\":1}")] // y not a string
    [InlineData("\"not an object\"")]
    public void A_malformed_epk_is_rejected(string epkTemplate)
    {
        using var recipient = SoftwareEcKey.Generate(EcCurve.P256);
        var x = Base64Url.Encode(recipient.PublicKey.X);
        var y = Base64Url.Encode(recipient.PublicKey.Y);
        var epk = epkTemplate.Replace("\"X\"", $"\"{x}\"", StringComparison.Ordinal).Replace("\"Y\"", $"\"{y}\"", StringComparison.Ordinal);
        var header = $"{{\"epk\":{epk},\"enc\":\"A256GCM\",\"alg\":\"ECDH-ES\"}}";
        var compact = WithSegment(Jwe.EncryptEcdhEs("x"u8, recipient.PublicKey), 0, B64(header));
        Rejects(JoseError.InvalidEphemeralKey, () => Jwe.DecryptEcdhEs(compact, recipient));
    }

    [Fact]
    public void An_epk_with_short_or_padded_coordinates_is_rejected()
    {
        using var recipient = SoftwareEcKey.Generate(EcCurve.P256);
        var x = recipient.PublicKey.X;
        var y = Base64Url.Encode(recipient.PublicKey.Y);
        foreach (var xText in new[] { Base64Url.Encode(x.AsSpan(1)), Base64Url.Encode([0, .. x]), Base64Url.Encode(x) + "=" })
        {
            var header = $"{{\"epk\":{{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"{xText}\",\"y\":\"{y}\"}},\"enc\":\"A256GCM\",\"alg\":\"ECDH-ES\"}}";
            var compact = WithSegment(Jwe.EncryptEcdhEs("x"u8, recipient.PublicKey), 0, B64(header));
            Rejects(JoseError.InvalidEphemeralKey, () => Jwe.DecryptEcdhEs(compact, recipient));
        }
    }

    [Fact]
    public void The_parsed_header_is_available_before_decryption()
    {
        // PROTOCOL.md 2.2: the BFF finds the device-session key by the header kid.
        var jwe = JweCompact.Parse(Rfc7520Compact);
        Assert.Equal("77c7e2b8-6e13-45cf-8672-617b5b45243a", jwe.Header.GetString("kid"));
        Assert.Equal(JweAlgorithm.Direct, jwe.Algorithm);
        Assert.Equal(JweEncryption.A128GCM, jwe.Encryption);
    }
}
