using System.Security.Cryptography;
using R2ps.Crypto.Ec;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.HashToCurve;
using R2ps.Crypto.Keys;
using R2ps.Crypto.Opaque;
using R2ps.Crypto.Pin;

namespace R2ps.Crypto.SelfTest;

/// <summary>
/// Start-up known-answer checks of hash-to-curve, the OPRF, the OPAQUE server and PIN hardening, on embedded RFC
/// vectors. Each check throws <see cref="CryptographicException"/> on a mismatch.
/// </summary>
public static class OpaqueKnownAnswers
{
    public static IEnumerable<(string Name, Action Check)> Checks()
    {
        yield return ("RFC 9380 J.1.1 hash_to_curve P256_XMD:SHA-256_SSWU_RO_", HashToCurve);
        yield return ("RFC 9497 A.3.1 OPRF P256-SHA256", Oprf);
        yield return ("RFC 9807 C.1.5 OPAQUE-3DH server KE2 and session key", OpaqueServerLogin);
        yield return ("PIN hardening (PROTOCOL.md §3)", PinHardeningVector);
    }

    private static void HashToCurve()
    {
        // RFC 9380 App. J.1.1, msg "abc"
        var p = P256HashToCurve.HashToCurve("abc"u8, "QUUX-V01-CS02-with-P256_XMD:SHA-256_SSWU_RO_"u8);
        Expect("hash_to_curve P.x", "0bb8b87485551aa43ed54f009230450b492fead5f1cc91658775dac4a3388a0f", EcCurve.P256.EncodeFieldElement(p.AffineXCoord.ToBigInteger()));
        Expect("hash_to_curve P.y", "5c41b3d0731a27a7b14bc0bf0ccded2d8751f83493404c84a88e71ffd424212e", EcCurve.P256.EncodeFieldElement(p.AffineYCoord.ToBigInteger()));
    }

    private static void Oprf()
    {
        // RFC 9497 App. A.3.1, test vector 1
        var (sk, _) = P256Sha256Oprf.DeriveKeyPair(Hex.Decode("a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3"), "test key"u8);
        Expect("OPRF skSm", "159749d750713afe245d2d39ccfaae8381c53ce92d098a9375ee70739c7ac0bf", sk);
        var random = new FixedRandom { [OpaqueRandomPurpose.Blind] = "3338fa65ec36e0290022b48eb562889d89dbfa691d1cde91517fa222ed7ad364" };
        using var blinded = P256Sha256Oprf.Blind([0x00], random);
        Expect("OPRF BlindedElement", "03723a1e5c09b8b9c18d1dcbca29e8007e95f14f4732d9346d490ffc195110368d", blinded.BlindedElement);
        var evaluated = P256Sha256Oprf.BlindEvaluate(sk, blinded.BlindedElement);
        Expect("OPRF EvaluationElement", "030de02ffec47a1fd53efcdd1c6faf5bdc270912b8749e783c7ca75bb412958832", evaluated);
        Expect("OPRF Output", "a0b34de5fa4c5b6da07e72af73cc507cceeb48981b97b7285fc375345fe495dd", P256Sha256Oprf.Finalize([0x00], blinded.Blind, evaluated));
        CryptographicOperations.ZeroMemory(sk);
    }

    private static void OpaqueServerLogin()
    {
        // RFC 9807 App. C.1.5 (Real Test Vector 5, no identities, context "OPAQUE-POC")
        var random = new FixedRandom
        {
            [OpaqueRandomPurpose.MaskingNonce] = "38fe59af0df2c79f57b8780278f5ae47355fe1f817119041951c80f612fdfc6d",
            [OpaqueRandomPurpose.ServerNonce] = "71cd9960ecef2fe0d0f7494986fa3d8b2bb01963537e60efb13981e138e3d4a1",
            [OpaqueRandomPurpose.ServerKeyshareSeed] = "05a4f54206eef1ba2f615bc0aa285cb22f26d1153b5b40a1e85ff80da12f982f",
        };
        var options = new OpaqueOptions { Context = "OPAQUE-POC"u8.ToArray(), Random = random };
        using var serverKey = SoftwareEcKey.FromPrivateScalar(EcCurve.P256, Hex.Decode("c36139381df63bfc91c850db0b9cfbec7a62e86d80040a41aa7725bf0e79d5e5"));
        using var server = new OpaqueServer(serverKey, Hex.Decode("62f60b286d20ce4fd1d64809b0021dad6ed5d52a2c8cf27ae6582543a0a8dce2"), null, options);
        using var record = RegistrationRecord.Parse(Hex.Decode(
            "03b218507d978c3db570ca994aaf36695a731ddb2db272c817f79746fc37ae52147f0ed53532d3ae8e505ecc70d42d2b814b6b0e48156def71ea029148b2803aafa921f2a014513bd8a90e477a629794e89fec12d12206dde662ebdcf65670e51fad30bbcfc1f8eda0211553ab9aaf26345ad59a128e80188f035fe4924fad67b8"));
        var ke1 = Hex.Decode("037342f0bcb3ecea754c1e67576c86aa90c1de3875f390ad599a26686cdfee6e07ab3d33bde0e93eda72392346a7a73051110674bbf6b1b7ffab8be4f91fdaeeb1022ed3f32f318f81bab80da321fecab3cd9b6eea11a95666dfa6beeaab321280b6");

        using var result = server.GenerateKE2(ke1, "1234"u8, record);
        Expect("OPAQUE KE2",
            "0246da9fe4d41d5ba69faa6c509a1d5bafd49a48615a47a8dd4b0823cc1476481138fe59af0df2c79f57b8780278f5ae47355fe1f817119041951c80f612fdfc6d2f0c547f70deaeca54d878c14c1aa5e1ab405dec833777132eea905c2fbb12504a67dcbe0e66740c76b62c13b04a38a77926e19072953319ec65e41f9bfd2ae26837b6ce688bf9af2542f04eec9ab96a1b9328812dc2f5c89182ed47fead61f09f71cd9960ecef2fe0d0f7494986fa3d8b2bb01963537e60efb13981e138e3d4a103c1701353219b53acf337bf6456a83cefed8f563f1040b65afbf3b65d3bc9a19b50a73b145bc87a157e8c58c0342e2047ee22ae37b63db17e0a82a30fcc4ecf7b",
            result.Ke2);
        var sessionKey = OpaqueServer.ServerFinish(result.State, Hex.Decode("e97cab4433aa39d598e76f13e768bba61c682947bdcf9936035e8a3a3ebfb66e"));
        Expect("OPAQUE session_key", "484ad345715ccce138ca49e4ea362c6183f0949aaaa1125dc3bc3f80876e7cd1", sessionKey);
        CryptographicOperations.ZeroMemory(sessionKey);
    }

    private static void PinHardeningVector()
    {
        // PROTOCOL.md §3: PIN "123456", device key = interop/r2ps-base-testkeys/p256.pem
        using var deviceKey = SoftwareEcKey.FromPrivateScalar(EcCurve.P256, Hex.Decode("9d1a774bf9d72e255c7076454e3fc04a72191a161c72056edb88c85659578dc5"));
        Expect("PIN hardening", "e784ca50762b11f22d07cd61b5388a692faec4159080c8de6ac98567a69eb685", PinHardening.HardenPin(deviceKey, "123456"));
    }

    private static void Expect(string what, string expectedHex, byte[] actual)
    {
        if (!CryptographicOperations.FixedTimeEquals(Hex.Decode(expectedHex), actual))
            throw new CryptographicException($"Known-answer test failed: {what}.");
    }

    /// <summary>Replays the vector's fixed "random" values, each once.</summary>
    private sealed class FixedRandom : IOpaqueRandom
    {
        private readonly Dictionary<OpaqueRandomPurpose, string> _values = [];

        public string this[OpaqueRandomPurpose purpose]
        {
            set => _values[purpose] = value;
        }

        public void Fill(OpaqueRandomPurpose purpose, Span<byte> destination)
        {
            if (!_values.Remove(purpose, out var hex)) throw new CryptographicException($"Known-answer test drew an unexpected {purpose}.");
            var value = Hex.Decode(hex);
            if (value.Length != destination.Length) throw new CryptographicException($"Known-answer test drew {purpose} of an unexpected size.");
            value.CopyTo(destination);
        }
    }
}
