using System.Security.Cryptography;
using R2ps.Crypto.Ec;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Keys;

namespace R2ps.Crypto.SelfTest;

/// <summary>Known answers for the curve arithmetic every other primitive stands on.</summary>
public static class EcKnownAnswers
{
    public static IEnumerable<(string Name, Action Check)> Checks()
    {
        // Named with the multiplier in use, so the self-test's report says which one this process runs.
        yield return ($"P-256 scalar multiplication in {EcCurve.ScalarMultiplier} (RFC 7518 App. C)", ScalarMultiplication);
        yield return ($"P-256 ECDH on a peer's point in {EcCurve.ScalarMultiplier} (RFC 7518 App. C)", Ecdh);
        yield return ("P-256 point decoding rejects off-curve points", InvalidPointRejected);
        yield return ("ECDSA P-256 sign/verify pairwise", EcdsaPairwise);
    }

    // RFC 7518 Appendix C: Alice's ephemeral d gives her x, y.
    private static void ScalarMultiplication()
    {
        using var key = SoftwareEcKey.FromPrivateScalar(EcCurve.P256, Base64Url.Decode("0_NxaRPUMQoAJt50Gz8YiTr8gRTwyEaCumd-MToTmIo"));
        Expect(key.PublicKey.X, Base64Url.Decode("gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0"));
        Expect(key.PublicKey.Y, Base64Url.Decode("SLW_xSffzlPWrHEVI30DHM_4egVwt3NQqeUD7nMFpps"));
    }

    // RFC 7518 Appendix C: Alice's ephemeral d with Bob's static public key gives Z.
    private static void Ecdh()
    {
        using var alice = SoftwareEcKey.FromPrivateScalar(EcCurve.P256, Base64Url.Decode("0_NxaRPUMQoAJt50Gz8YiTr8gRTwyEaCumd-MToTmIo"));
        byte[] bob = [0x04, .. Base64Url.Decode("weNJy2HscCSM6AEDTDg04biOvhFhyyWvOHQfeF_PxMQ"), .. Base64Url.Decode("e8lnCO-AlStT-NJVX-crhB7QRYhiix03illJOVAOyck")];
        var z = alice.DeriveSharedSecret(new EcPublicKey(EcCurve.P256, EcCurve.P256.DecodePoint(bob)));
        try
        {
            Expect(z, [158, 86, 217, 29, 129, 113, 53, 211, 114, 131, 66, 131, 191, 132, 38, 156, 251, 49, 110, 163, 218, 128, 106, 72, 246, 218, 167, 121, 140, 254, 144, 196]);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(z);
        }
    }

    private static void InvalidPointRejected()
    {
        byte[] offCurve = [0x04, .. Base64Url.Decode("gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0"), .. Base64Url.Decode("SLW_xSffzlPWrHEVI30DHM_4egVwt3NQqeUD7nMFppo")];
        if (EcCurve.P256.TryDecodePoint(offCurve, out _)) throw new CryptographicException("An off-curve point was accepted.");
    }

    private static void EcdsaPairwise()
    {
        using var key = SoftwareEcKey.Generate(EcCurve.P256);
        var hash = SHA256.HashData("R2PS self-test"u8);
        var signature = key.SignHash(hash);
        using var verifier = ECDsa.Create(key.PublicKey.ToDotNet());
        if (!verifier.VerifyHash(hash, signature)) throw new CryptographicException("A fresh ECDSA signature did not verify.");
        hash[0] ^= 1;
        if (verifier.VerifyHash(hash, signature)) throw new CryptographicException("An ECDSA signature verified over another hash.");
    }

    internal static void Expect(ReadOnlySpan<byte> actual, ReadOnlySpan<byte> expected)
    {
        if (!actual.SequenceEqual(expected)) throw new CryptographicException("Known answer mismatch.");
    }
}
