using System.Security.Cryptography;
using R2ps.Crypto.Ec;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Jose;
using R2ps.Crypto.Keys;
using R2ps.Testing;
using static R2ps.Crypto.Tests.Jose.JoseTestSupport;
using TextEncoding = System.Text.Encoding;

namespace R2ps.Crypto.Tests.Jose;

public class JwsTests
{
    // RFC 7515 App. A.3 (ES256): the example key and JWS.
    internal const string A3X = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
    internal const string A3Y = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
    internal const string A3Compact =
        "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19"
        + "yb290Ijp0cnVlfQ.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU"
        + "1Q";

    // RFC 7515 App. A.4 (ES512).
    private const string A4X =
        "AekpBQ8ST8a8VcfVOTNl353vSrDCLLJXmPk06wTjxrrjcBpXp5EOnYG_NjFZ6OvLFV1jSfS9tsz4qUxcWceqwQGk";
    private const string A4Y =
        "ADSmRA43Z1DSNx_RvcLI87cdL07l6jQyyBXMoxVg_l2Th-x3S1WDhjDly79ajL4Kkd0AZMaZmh9ubmf63e3kyMj2";
    private const string A4Compact =
        "eyJhbGciOiJFUzUxMiJ9.UGF5bG9hZA.AdwMgeerwtHoh-l192l60hp9wAHZFVJbLfD_UxMi70cwnZOYaRI1bKPWROc-mZZqwqT2"
        + "SI-KGDKB34XO0aw_7XdtAG8GaSwFKdCAPZgoXD2YBJZCPEX3xKpRwcdOO8KpEHwJjyqOgzDO7iKvU8vcnwNrmxYbSW9ERBXukOXo"
        + "lLzeO_Jn";

    // RFC 7520 §4.3 (ES512, bilbo.baggins).
    private const string Rfc7520X =
        "AHKZLLOsCOzz5cY97ewNUajB957y-C-U88c3v13nmGZx6sYl_oJXu9A5RkTKqjqvjyekWF-7ytDyRXYgCF5cj0Kt";
    private const string Rfc7520Y =
        "AdymlHvOiLxXkEhayXQnNCvDX4h9htZaCJN34kfmC6pV5OhQHiraVySsUdaQkAgDPrwQrJmbnX9cwlGfP-HqHZR1";
    private const string Rfc7520Compact =
        "eyJhbGciOiJFUzUxMiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9.SXTigJlzIGEgZGFuZ2Vyb3VzIGJ"
        + "1c2luZXNzLCBGcm9kbywgZ29pbmcgb3V0IHlvdXIgZG9vci4gWW91IHN0ZXAgb250byB0aGUgcm9hZCwgYW5kIGlmIHlvdSBkb24"
        + "ndCBrZWVwIHlvdXIgZmVldCwgdGhlcmXigJlzIG5vIGtub3dpbmcgd2hlcmUgeW91IG1pZ2h0IGJlIHN3ZXB0IG9mZiB0by4.AE_"
        + "R_YZCChjn4791jSQCrdPZCNYqHXCTZH0-JZGYNlaAjP2kqaluUIIUnC9qvbu9Plon7KRTzoNEuT4Va2cmL1eJAQy3mtPBu_u_sDD"
        + "yYjnAMDxXPn7XrT0lw-kvAD890jl8e2puQens_IEKBpHABlsbEPX6sFY8OcGDqoRuBomu9xQ2";

    [Fact]
    public void Rfc7515_appendix_A3_ES256_signature_verifies()
    {
        // RFC 7515 App. A.3.
        var payload = Jws.Verify(A3Compact, PublicKeyFromJwk(EcCurve.P256, A3X, A3Y));
        Assert.Equal("{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}", TextEncoding.UTF8.GetString(payload));
    }

    [Fact]
    public void Rfc7515_appendix_A3_signature_is_the_published_R_and_S()
    {
        // RFC 7515 App. A.3.1: R = [14, 209, 33, 83, …], S = [197, 10, 7, 211, …].
        var signature = Base64Url.Decode(Segment(A3Compact, 2));
        Assert.Equal("0ed1215379636c483c2f7f155807d402a3b228033af97c7e17819ac3169ea665", Hex.Encode(signature.AsSpan(0, 32)));
        Assert.Equal("c50a07d38c3c70e5d8f12daf084a5480a66590c5f293509a8f3f7f8a83a354d5", Hex.Encode(signature.AsSpan(32)));
    }

    [Fact]
    public void Rfc7515_appendix_A4_ES512_signature_verifies()
    {
        // RFC 7515 App. A.4: payload "Payload".
        var payload = Jws.Verify(A4Compact, PublicKeyFromJwk(EcCurve.P521, A4X, A4Y));
        Assert.Equal("Payload"u8.ToArray(), payload);
    }

    [Fact]
    public void Rfc7520_section_4_3_ES512_signature_with_kid_verifies()
    {
        // RFC 7520 §4.3: header {"alg":"ES512","kid":"bilbo.baggins@hobbiton.example"}.
        var payload = Jws.Verify(Rfc7520Compact, PublicKeyFromJwk(EcCurve.P521, Rfc7520X, Rfc7520Y));
        Assert.StartsWith("It\u2019s a dangerous business, Frodo", TextEncoding.UTF8.GetString(payload), StringComparison.Ordinal);
    }

    [Fact]
    public void Shared_vector_files_verify()
    {
        using var rfc7515 = SharedFiles.ReadJson("vectors/jose_rfc7515_appendixA3_A4_ecdsa.json");
        foreach (var example in rfc7515.RootElement.GetProperty("examples").EnumerateObject())
        {
            var jwk = example.Value.GetProperty("jwk");
            var key = PublicKeyFromJwk(EcCurve.FromName(jwk.GetProperty("crv").GetString()), jwk.GetProperty("x").GetString()!, jwk.GetProperty("y").GetString()!);
            var payload = Jws.Verify(example.Value.GetProperty("compact").GetString()!, key);
            Assert.Equal(example.Value.GetProperty("payload_utf8").GetString(), TextEncoding.UTF8.GetString(payload));
        }
    }

    [Theory]
    [InlineData("P-256")]
    [InlineData("P-384")]
    [InlineData("P-521")]
    public void Sign_then_verify_round_trips_on_every_curve(string curveName)
    {
        var curve = EcCurve.FromName(curveName);
        using var key = SoftwareEcKey.Generate(curve);
        var compact = Jws.Sign("{\"ver\":\"1.0\"}"u8, key);

        var jws = JwsCompact.Parse(compact);
        Assert.Equal(JoseAlgorithms.JwsAlgorithmFor(curve), jws.Algorithm);
        Assert.Equal(2 * curve.FieldSize, Base64Url.Decode(Segment(compact, 2)).Length);
        Assert.Equal("{\"ver\":\"1.0\"}"u8.ToArray(), Jws.Verify(compact, key.PublicKey));
    }

    [Theory]
    [InlineData("P-256")]
    [InlineData("P-384")]
    [InlineData("P-521")]
    public async Task An_asynchronous_key_signs_through_its_asynchronous_member_and_jose_jwt_verifies_it(string curveName)
    {
        var curve = EcCurve.FromName(curveName);
        using var software = SoftwareEcKey.Generate(curve);
        var key = new AsyncOnlyKey(software);
        var header = $$"""{"typ":"JOSE","alg":"{{JoseAlgorithms.JwsAlgorithmFor(curve).Name()}}"}""";

        var compact = await Jws.SignAsync("{\"ver\":\"1.0\"}"u8.ToArray(), key, header, TestContext.Current.CancellationToken);

        Assert.Equal(1, key.AsyncSignatures);
        // The same header segment and signature shape as the synchronous path, and jose-jwt verifies it.
        Assert.Equal(Segment(Jws.Sign("{}"u8, software, header), 0), Segment(compact, 0));
        Assert.Equal(2 * curve.FieldSize, Base64Url.Decode(Segment(compact, 2)).Length);
        Assert.Equal("{\"ver\":\"1.0\"}"u8.ToArray(), Jws.Verify(compact, software.PublicKey));
    }

    [Fact]
    public async Task The_asynchronous_path_checks_the_header_as_the_synchronous_one_does()
    {
        using var software = SoftwareEcKey.Generate(EcCurve.P256);
        var key = new AsyncOnlyKey(software);

        // alg confusion: ES384 named for a P-256 key.
        var e = await Assert.ThrowsAsync<JoseException>(() => Jws.SignAsync("{}"u8.ToArray(), key, """{"typ":"JOSE","alg":"ES384"}""", CancellationToken.None));
        Assert.Equal(JoseError.AlgorithmKeyMismatch, e.Reason);
        Assert.Equal(0, key.AsyncSignatures);
    }

    [Fact]
    public void R2ps_signing_uses_exactly_the_protocol_header_bytes()
    {
        // PROTOCOL.md 1.1/1.2: {"typ":"JOSE","alg":"ES256"}, the same segment the Java reference client sends.
        using var key = SoftwareEcKey.Generate(EcCurve.P256);
        var compact = Jws.Sign("{}"u8, key);
        Assert.Equal("eyJ0eXAiOiJKT1NFIiwiYWxnIjoiRVMyNTYifQ", Segment(compact, 0));
        Assert.Equal(Jws.R2psHeaderJson, Json(Segment(compact, 0)));
        Jws.Verify(compact, key.PublicKey, JwsVerificationOptions.R2ps);
    }

    [Fact]
    public void R2ps_verification_accepts_the_header_members_in_another_order()
    {
        // Members, not bytes, are compared: another JOSE library may write alg first.
        using var key = SoftwareEcKey.Generate(EcCurve.P256);
        var compact = Jws.Sign("{}"u8, key, "{\"alg\":\"ES256\", \"typ\":\"JOSE\"}");
        Assert.Equal("{}"u8.ToArray(), Jws.Verify(compact, key.PublicKey, JwsVerificationOptions.R2ps));
    }

    [Theory]
    [InlineData("{\"typ\":\"JOSE\",\"alg\":\"ES256\",\"kid\":\"device-1\"}")] // extra member
    [InlineData("{\"alg\":\"ES256\"}")] // typ missing
    [InlineData("{\"typ\":\"JWT\",\"alg\":\"ES256\"}")] // other typ
    [InlineData("{\"typ\":\"jose\",\"alg\":\"ES256\"}")] // values are case-sensitive
    public void R2ps_verification_rejects_any_other_header(string header)
    {
        using var key = SoftwareEcKey.Generate(EcCurve.P256);
        var compact = Jws.Sign("{}"u8, key, header);
        Rejects(JoseError.UnexpectedHeader, () => Jws.Verify(compact, key.PublicKey, JwsVerificationOptions.R2ps));
    }

    [Fact]
    public void Signing_with_a_header_alg_of_another_curve_is_refused()
    {
        using var key = SoftwareEcKey.Generate(EcCurve.P256);
        Rejects(JoseError.AlgorithmKeyMismatch, () => Jws.Sign("{}"u8, key, "{\"alg\":\"ES384\"}"));
    }

    [Fact]
    public void The_payload_can_be_read_before_verification_to_choose_the_key()
    {
        // PROTOCOL.md 1.1: (client_id, kid) from the payload select the key that then verifies it.
        using var key = SoftwareEcKey.Generate(EcCurve.P256);
        var jws = JwsCompact.Parse(Jws.Sign("{\"kid\":\"k1\"}"u8, key));
        Assert.Equal("{\"kid\":\"k1\"}"u8.ToArray(), jws.GetUnverifiedPayload());
        Assert.Equal("{\"kid\":\"k1\"}"u8.ToArray(), jws.Verify(key.PublicKey));
    }

    [Fact]
    public void A_signature_by_another_key_is_rejected()
    {
        using var signer = SoftwareEcKey.Generate(EcCurve.P256);
        using var other = SoftwareEcKey.Generate(EcCurve.P256);
        Rejects(JoseError.InvalidSignature, () => Jws.Verify(Jws.Sign("{}"u8, signer), other.PublicKey));
    }

    [Fact]
    public async Task A_key_reused_across_threads_verifies_each_signature_on_its_own()
    {
        // A public key keeps its verifiers for reuse (issue 9): concurrent good and forged signatures under one key must
        // each get their own answer, and a key used with another's signatures must not learn to accept them.
        using var signer = SoftwareEcKey.Generate(EcCurve.P256);
        using var forger = SoftwareEcKey.Generate(EcCurve.P256);
        var good = Jws.Sign("{\"n\":1}"u8, signer);
        var forged = Jws.Sign("{\"n\":1}"u8, forger);
        await Parallel.ForAsync(0, 2_000, TestContext.Current.CancellationToken, (i, _) =>
        {
            if (i % 2 == 0)
                Assert.Equal("{\"n\":1}"u8.ToArray(), Jws.Verify(good, signer.PublicKey));
            else
                Rejects(JoseError.InvalidSignature, () => Jws.Verify(forged, signer.PublicKey));
            return ValueTask.CompletedTask;
        });
        Assert.Equal("{\"n\":1}"u8.ToArray(), Jws.Verify(forged, forger.PublicKey));
        Rejects(JoseError.InvalidSignature, () => Jws.Verify(good, forger.PublicKey));
    }

    [Fact]
    public void A_modified_payload_is_rejected()
    {
        var tampered = WithSegment(A3Compact, 1, B64("{\"iss\":\"joe\"}"));
        Rejects(JoseError.InvalidSignature, () => Jws.Verify(tampered, PublicKeyFromJwk(EcCurve.P256, A3X, A3Y)));
    }

    [Fact]
    public void The_signature_covers_the_header_as_received_not_its_members()
    {
        // The same two members in the other order are an acceptable R2PS header (see above), but not the signed one: the
        // signing input is the received text (RFC 7515 §5.2), so the signature fails.
        using var key = SoftwareEcKey.Generate(EcCurve.P256);
        var compact = Jws.Sign("{}"u8, key); // the R2PS header, {"typ":"JOSE","alg":"ES256"}
        var reordered = WithSegment(compact, 0, B64("""{"alg":"ES256","typ":"JOSE"}"""));
        Assert.Equal("{}"u8.ToArray(), Jws.Verify(compact, key.PublicKey, JwsVerificationOptions.R2ps));
        Rejects(JoseError.InvalidSignature, () => Jws.Verify(reordered, key.PublicKey, JwsVerificationOptions.R2ps));
    }

    [Fact]
    public void A_signature_with_one_bit_flipped_is_rejected()
    {
        var signature = Base64Url.Decode(Segment(A3Compact, 2));
        foreach (var index in new[] { 0, 31, 32, 63 }) // the first and last byte of R and of S
        {
            var flipped = (byte[])signature.Clone();
            flipped[index] ^= 0x01;
            Rejects(JoseError.InvalidSignature,
                () => Jws.Verify(WithSegment(A3Compact, 2, Base64Url.Encode(flipped)), PublicKeyFromJwk(EcCurve.P256, A3X, A3Y)));
        }
    }

    [Fact]
    public void Input_over_the_default_64_KiB_limit_is_rejected_before_parsing()
    {
        // PROTOCOL.md 1.1: 64 KiB request limit.
        using var key = SoftwareEcKey.Generate(EcCurve.P256);
        var compact = Jws.Sign(new byte[JoseLimits.DefaultMaxCompactLength], key);
        Rejects(JoseError.InputTooLarge, () => Jws.Verify(compact, key.PublicKey));
        Rejects(JoseError.InputTooLarge, () => JwsCompact.Parse(new string('.', JoseLimits.DefaultMaxCompactLength + 1)));
    }

    [Fact]
    public void The_size_limit_is_configurable()
    {
        using var key = SoftwareEcKey.Generate(EcCurve.P256);
        var compact = Jws.Sign(new byte[JoseLimits.DefaultMaxCompactLength], key);
        var options = new JwsVerificationOptions { Limits = new JoseLimits { MaxCompactLength = 128 * 1024 } };
        Assert.Equal(JoseLimits.DefaultMaxCompactLength, Jws.Verify(compact, key.PublicKey, options).Length);
        Rejects(JoseError.InputTooLarge, () => Jws.Verify(A3Compact, PublicKeyFromJwk(EcCurve.P256, A3X, A3Y), new JwsVerificationOptions { Limits = new JoseLimits { MaxCompactLength = 100 } }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new JoseLimits { MaxCompactLength = 0 });
    }

    [Theory]
    [InlineData("eyJhbGciOiJFUzI1NiJ9")] // two segments
    [InlineData("a.b.c.d")] // four segments
    [InlineData("")]
    public void A_wrong_number_of_segments_is_rejected(string compact) =>
        Rejects(JoseError.MalformedCompact, () => JwsCompact.Parse(compact));

    [Theory]
    [InlineData(0, "eyJhbGciOiJFUzI1NiJ9=")] // padding
    [InlineData(1, "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfR")] // trailing bits
    [InlineData(1, "eyJpc3MiOiJqb2UifQ+")] // standard alphabet
    [InlineData(1, "eyJpc3MiOi Jqb2UifQ")] // whitespace
    [InlineData(2, "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1R")] // trailing bits
    public void Non_canonical_base64url_in_any_segment_is_rejected(int index, string segment) =>
        Rejects(JoseError.InvalidBase64Url, () => JwsCompact.Parse(WithSegment(A3Compact, index, segment)));

    [Theory]
    [InlineData("not json")]
    [InlineData("[\"ES256\"]")]
    [InlineData("\"ES256\"")]
    [InlineData("{\"alg\":\"ES256\",}")] // trailing comma
    [InlineData("{\"alg\":\"ES256\"} {}")] // two values
    [InlineData("{\"alg\":\"ES256\" /* c */}")] // comment
    [InlineData("\uFEFF{\"alg\":\"ES256\"}")] // byte order mark
    [InlineData("{\"alg\":256}")] // alg not a string
    [InlineData("{\"typ\":\"JOSE\"}")] // no alg
    [InlineData("{\"alg\":\"ES256\",\"kid\":\"\\ud800\"}")] // lone surrogate
    public void A_malformed_header_is_rejected(string header) =>
        Rejects(JoseError.InvalidHeader, () => JwsCompact.Parse(WithSegment(A3Compact, 0, B64(header))));

    [Fact]
    public void A_header_that_is_not_UTF8_is_rejected() =>
        Rejects(JoseError.InvalidHeader, () => JwsCompact.Parse(WithSegment(A3Compact, 0, Base64Url.Encode([.. "{\"alg\":\"ES256\",\"kid\":\""u8, 0xC3, 0x28, .. "\"}"u8]))));

    [Theory]
    [InlineData("{\"alg\":\"ES256\",\"alg\":\"none\"}")]
    [InlineData("{\"alg\":\"ES256\",\"a\\u006cg\":\"ES256\"}")] // the same name, escaped
    [InlineData("{\"alg\":\"ES256\",\"x\":{\"k\":1,\"k\":2}}")] // nested object
    public void A_header_with_a_duplicate_member_is_rejected(string header)
    {
        // A correct signature over the ambiguous header: the rejection is about the header, not the signature.
        using var key = SoftwareEcKey.Generate(EcCurve.P256);
        var compact = SignWithRawHeader(header, "{}", key, HashAlgorithmName.SHA256);
        Rejects(JoseError.DuplicateHeaderMember, () => Jws.Verify(compact, key.PublicKey));
    }

    [Fact]
    public void A_header_with_crit_is_rejected()
    {
        // RFC 7515 §4.1.11: crit names extensions the recipient must understand; we understand none.
        using var key = SoftwareEcKey.Generate(EcCurve.P256);
        var compact = SignWithRawHeader("{\"alg\":\"ES256\",\"b64\":false,\"crit\":[\"b64\"]}", "{}", key, HashAlgorithmName.SHA256);
        Rejects(JoseError.UnsupportedHeaderParameter, () => Jws.Verify(compact, key.PublicKey));
    }

    [Theory]
    [InlineData("RS256")]
    [InlineData("PS256")]
    [InlineData("EdDSA")]
    [InlineData("es256")] // case matters
    [InlineData("ES256K")]
    public void Algorithms_other_than_ES256_ES384_ES512_are_rejected(string alg) =>
        Rejects(JoseError.UnsupportedAlgorithm, () => JwsCompact.Parse(WithSegment(A3Compact, 0, B64($"{{\"alg\":\"{alg}\"}}"))));

    [Fact]
    public void A_huge_header_is_rejected_by_its_own_limit()
    {
        var header = "{\"alg\":\"ES256\",\"kid\":\"" + new string('a', 5000) + "\"}";
        Rejects(JoseError.InputTooLarge, () => JwsCompact.Parse(WithSegment(A3Compact, 0, B64(header))));
    }
}
