using System.Security.Cryptography;
using R2ps.Crypto.Ec;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Keys;
using Net.Pkcs11Interop.HighLevelAPI;
using R2ps.Hsm.Pkcs11;

namespace R2ps.Hsm.SelfTest;

/// <summary>
/// Known-answer checks of the HSM path for the start-up self-test. Unlike the software areas these need the open
/// connection, so they take it; each imports seed 002's test key as a <em>session</em> object (gone with its
/// session, never on the token), uses it, and destroys it.
/// </summary>
public static class HsmKnownAnswers
{
    // interop/r2ps-base-testkeys/p256.pem's scalar, and seed 002 §4.3's hsm_ecdh example (PROTOCOL.md 3).
    private const string SeedScalar = "9d1a774bf9d72e255c7076454e3fc04a72191a161c72056edb88c85659578dc5";
    private const string SeedPeer = "0294ddc3fd5554688bf619987b63bbb09b13e0d04b8a9da493309eef3f41767228";
    private const string SeedSharedSecret = "ad91d860a109cce0e7d334813f434be8d44a21f8b3677cfe00c25fb572950687";

    public static IEnumerable<(string Name, Action Check)> Checks(HsmConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        yield return ("HSM ECDH P-256 (seed 002 §4.3)", () => EcdhKnownAnswer(connection));
        yield return ("HSM ECDSA P-256 sign/verify", () => SignAndVerify(connection));
    }

    private static void EcdhKnownAnswer(HsmConnection connection)
    {
        var peer = EcPublicKey.FromSec1(EcCurve.P256, Hex.Decode(SeedPeer));
        var secret = WithSeedKey(connection, (session, handle) =>
            Pkcs11Mechanisms.DeriveEcdh(session, handle, peer.ToUncompressed(), EcCurve.P256.FieldSize));
        try
        {
            if (!CryptographicOperations.FixedTimeEquals(secret, Hex.Decode(SeedSharedSecret)))
                throw new CryptographicException("HSM ECDH known answer mismatch.");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    private static void SignAndVerify(HsmConnection connection)
    {
        var hash = SHA256.HashData("r2ps hsm self-test"u8);
        var signature = WithSeedKey(connection, (session, handle) => Pkcs11Mechanisms.SignEcdsa(session, handle, hash, EcCurve.P256.FieldSize));
        using var seed = SeedKey();
        using var verifier = ECDsa.Create(seed.PublicKey.ToDotNet());
        if (!verifier.VerifyHash(hash, signature, DSASignatureFormat.IeeeP1363FixedFieldConcatenation))
            throw new CryptographicException("HSM ECDSA signature did not verify.");
    }

    private static T WithSeedKey<T>(HsmConnection connection, Func<ISession, IObjectHandle, T> use)
    {
        using var seed = SeedKey();
        return connection.Run(session =>
        {
            var handle = HsmServiceKeys.CreateEcPrivateKey(session, seed, "r2ps-self-test", token: false);
            try
            {
                return use(session, handle);
            }
            finally
            {
                session.DestroyObject(handle);
            }
        });
    }

    private static SoftwareEcKey SeedKey()
    {
        var scalar = Hex.Decode(SeedScalar);
        try
        {
            return SoftwareEcKey.FromPrivateScalar(EcCurve.P256, scalar);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(scalar);
        }
    }
}
