using System.Security.Cryptography;
using R2ps.Crypto.Ec;
using R2ps.Crypto.SelfTest;

namespace R2ps.Crypto.Tests.SelfTest;

public class CryptoSelfTestTests
{
    [Fact]
    public void Every_known_answer_check_passes()
    {
        var results = CryptoSelfTest.RunOrThrow();
        Assert.NotEmpty(results);
        Assert.All(results, r => Assert.True(r.Passed, r.Name + ": " + r.Error));
    }

    [Fact]
    public void Checks_cover_every_primitive_family()
    {
        var names = CryptoSelfTest.Checks().Select(c => c.Name).ToList();
        Assert.Contains(names, n => n.Contains("P-256", StringComparison.Ordinal));
        Assert.Contains(names, n => n.Contains("JWS", StringComparison.Ordinal));
        Assert.Contains(names, n => n.Contains("HPKE", StringComparison.Ordinal));
        Assert.Contains(names, n => n.Contains("OPAQUE", StringComparison.Ordinal));
        Assert.Contains(names, n => n.Contains("OPRF", StringComparison.Ordinal));
        Assert.Contains(names, n => n.Contains("hash_to_curve", StringComparison.OrdinalIgnoreCase));
        Assert.Contains(names, n => n.Contains("PIN", StringComparison.Ordinal));
        // Both kinds of multiplication, each naming the multiplier this process runs (OpenSSL here, or BouncyCastle).
        Assert.Contains($"P-256 scalar multiplication in {EcCurve.ScalarMultiplier} (RFC 7518 App. C)", names);
        Assert.Contains($"P-256 ECDH on a peer's point in {EcCurve.ScalarMultiplier} (RFC 7518 App. C)", names);
    }

    [Fact]
    public void A_failing_check_is_reported_by_name_and_refuses_start()
    {
        (string, Action)[] checks = [("good", () => { }), ("broken", () => throw new CryptographicException("Known answer mismatch."))];
        var results = CryptoSelfTest.Run(checks);
        Assert.True(results[0].Passed);
        Assert.False(results[1].Passed);
        Assert.Equal("Known answer mismatch.", results[1].Error);

        var failure = new SelfTestFailedException([results[1]]);
        Assert.Contains("broken", failure.Message, StringComparison.Ordinal);
    }
}
