using System.Security.Cryptography;
using R2ps.Crypto.Ec;
using R2ps.Crypto.Jose;
using R2ps.Crypto.Keys;

namespace R2ps.Crypto.SelfTest;

/// <summary>Start-up known-answer checks of the JOSE code (values embedded from the RFCs, no file reads).</summary>
public static class JoseKnownAnswers
{
    public static IEnumerable<(string Name, Action Check)> Checks()
    {
        yield return ("JOSE ECDH-ES key agreement, Concat KDF (RFC 7518 App. C)", EcdhEsRfc7518AppendixC);
        yield return ("JOSE JWS ES256 verify (RFC 7515 App. A.3)", JwsEs256Rfc7515AppendixA3);
        yield return ("JOSE JWE dir A128GCM decrypt (RFC 7520 §5.6)", JweDirectRfc7520Section5_6);
        yield return ("JOSE JWE ECDH-ES A256GCM round trip", JweEcdhEsRoundTrip);
    }

    // RFC 7518 App. C: Bob's static P-256 key, Alice's ephemeral epk, apu "Alice", apv "Bob", enc A128GCM. jose-jwt's
    // key management derives the content key with Bob's key behind IEcPrivateKey (the path an HSM key takes).
    private static void EcdhEsRfc7518AppendixC()
    {
        using var bob = SoftwareEcKey.FromPrivateScalar(EcCurve.P256, Convert.FromHexString("5449836690d75caf29f0dd029ddb31b3ddb8aba9d2d515c5012465e817d4a9dc"));
        var header = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["alg"] = "ECDH-ES",
            ["enc"] = "A128GCM",
            ["apu"] = "QWxpY2U",
            ["apv"] = "Qm9i",
            ["epk"] = new Dictionary<string, object>(StringComparer.Ordinal)
            {
                ["kty"] = "EC",
                ["crv"] = "P-256",
                ["x"] = "gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0",
                ["y"] = "SLW_xSffzlPWrHEVI30DHM_4egVwt3NQqeUD7nMFpps",
            },
        };
        using var agreement = new EcdhKeyAdapter(bob);
        var key = JoseEngine.DeriveEcdhEsKey(128, agreement, header);
        try
        {
            Expect(key, "56aa8deaf8236d205c2228cd71a7101a", "ECDH-ES derived key");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    // RFC 7515 App. A.3: ES256 JWS over the "joe" claims; the signature must verify and a one-bit change must not.
    private static void JwsEs256Rfc7515AppendixA3()
    {
        const string compact = "eyJhbGciOiJFUzI1NiJ9"
            + ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
            + ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
        var key = EcPublicKey.FromSec1(EcCurve.P256, Convert.FromHexString(
            "04"
            + "7fcdce2770f6c45d4183cbee6fdb4b7b580733357be9ef13bacf6e3c7bd15445"
            + "c7f144cd1bbd9b7e872cdfedb9eeb9f4b3695d6ea90b24ad8a4623288588e5ad"));
        var payload = Jws.Verify(compact, key);
        if (!payload.AsSpan().SequenceEqual("{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}"u8))
            throw new CryptographicException("JOSE self-test: RFC 7515 A.3 payload mismatch.");

        var tampered = compact[..^2] + (compact[^2] == 'Q' ? "R" : "Q") + compact[^1];
        try
        {
            Jws.Verify(tampered, key);
        }
        catch (JoseException)
        {
            return;
        }
        throw new CryptographicException("JOSE self-test: a modified ES256 signature verified.");
    }

    // RFC 7520 §5.6: dir + A128GCM with the 128-bit key "XctOhJAkA-pD9Lh7ZgW_2A".
    private static void JweDirectRfc7520Section5_6()
    {
        const string compact = "eyJhbGciOiJkaXIiLCJraWQiOiI3N2M3ZTJiOC02ZTEzLTQ1Y2YtODY3Mi02MTdiNWI0NTI0M2EiLCJlbmMiOiJBMTI4R0NNIn0"
            + "..refa467QzzKx6QAB"
            + ".JW_i_f52hww_ELQPGaYyeAB6HYGcR559l9TYnSovc23XJoBcW29rHP8yZOZG7YhLpT1bjFuvZPjQS-m0IFtVcXkZXdH_lr_FrdYt9HRUYks"
            + "htrMmIUAyGmUnd9zMDB2n0cRDIHAzFVeJUDxkUwVAE7_YGRPdcqMyiBoCO-FBdE-Nceb4h3-FtBP-c_BIwCPTjb9o0SbdcdREEMJMyZBH8yS"
            + "WMVi1gPD9yxi-aQpGbSv_F9N4IZAxscj5g-NJsUPbjk29-s7LJAGb15wEBtXphVCgyy53CoIKLHHeJHXex45Uz9aKZSRSInZI-wjsY0yu3cT4_a"
            + "Q3i1o-tiE-F8Ios61EKgyIQ4CWao8PFMj8TTnp"
            + ".vbb32Xvllea2OtmHAdccRQ";
        var key = Convert.FromHexString("5dcb4e84902403ea43f4b87b6605bfd8");
        var plaintext = Jwe.DecryptDirect(compact, key, JweEncryption.A128GCM);
        var expected = System.Text.Encoding.UTF8.GetBytes(
            "You can trust us to stick with you through thick and thin\u2013to the bitter end. And you can trust us to keep any "
            + "secret of yours\u2013closer than you keep it yourself. But you cannot trust us to let you face trouble alone, "
            + "and go off without a word. We are your friends, Frodo.");
        if (!plaintext.AsSpan().SequenceEqual(expected))
            throw new CryptographicException("JOSE self-test: RFC 7520 §5.6 plaintext mismatch.");
    }

    private static void JweEcdhEsRoundTrip()
    {
        using var recipient = SoftwareEcKey.Generate(EcCurve.P256);
        var message = "R2PS JOSE self-test"u8;
        var compact = Jwe.EncryptEcdhEs(message, recipient.PublicKey);
        if (!Jwe.DecryptEcdhEs(compact, recipient).AsSpan().SequenceEqual(message))
            throw new CryptographicException("JOSE self-test: ECDH-ES round trip mismatch.");
    }

    private static void Expect(byte[] actual, string expectedHex, string what)
    {
        if (!CryptographicOperations.FixedTimeEquals(actual, Convert.FromHexString(expectedHex)))
            throw new CryptographicException($"JOSE self-test: {what} differs from the known answer.");
    }
}
