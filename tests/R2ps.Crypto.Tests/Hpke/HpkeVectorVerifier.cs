using R2ps.Crypto.Ec;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Hpke;
using R2ps.Crypto.Keys;

namespace R2ps.Crypto.Tests.Hpke;

/// <summary>Checks every value of an RFC 9180 test vector against this implementation, through both roles.</summary>
internal static class HpkeVectorVerifier
{
    public static void Verify(HpkeTestVector v)
    {
        var suite = HpkeSuite.FromIds((ushort)HpkeKem.DhkemP256HkdfSha256, (ushort)HpkeKdf.HkdfSha256, (ushort)v.Aead);
        var info = Hex.Decode(v.Info);

        // DeriveKeyPair (RFC 9180 §7.1.3) reproduces every key of the vector.
        using var skR = DeriveAndCheck(v.IkmR, v.SkRm, v.PkRm);
        using var skE = DeriveAndCheck(v.IkmE, v.SkEm, v.PkEm);
        using var skS = v.Mode == HpkeMode.Auth ? DeriveAndCheck(v.IkmS!, v.SkSm!, v.PkSm!) : null;

        // The KEM, both directions.
        var (sharedSecret, enc) = v.Mode == HpkeMode.Auth
            ? DhkemP256.AuthEncap(skR.PublicKey, skS!, skE)
            : DhkemP256.Encap(skR.PublicKey, skE);
        AssertHex(v.Enc, enc);
        AssertHex(v.SharedSecret, sharedSecret);
        var decapsulated = v.Mode == HpkeMode.Auth
            ? DhkemP256.AuthDecap(enc, skR, skS!.PublicKey)
            : DhkemP256.Decap(enc, skR);
        AssertHex(v.SharedSecret, decapsulated);

        // The key schedule (RFC 9180 §5.1).
        using (var schedule = HpkeKeySchedule.Derive(suite, v.Mode, sharedSecret, info))
        {
            AssertHex(v.KeyScheduleContext, schedule.KeyScheduleContext);
            AssertHex(v.Secret, schedule.Secret);
            AssertHex(v.Key, schedule.Key);
            AssertHex(v.BaseNonce, schedule.BaseNonce);
            AssertHex(v.ExporterSecret, schedule.ExporterSecret);
        }

        // The public setup API, sender with the vector's ephemeral key.
        using var sender = v.Mode == HpkeMode.Auth
            ? suite.SetupAuthS(skR.PublicKey, info, skS!, skE)
            : suite.SetupBaseS(skR.PublicKey, info, skE);
        using var recipient = v.Mode == HpkeMode.Auth
            ? suite.SetupAuthR(Hex.Decode(v.Enc), skR, info, skS!.PublicKey)
            : suite.SetupBaseR(Hex.Decode(v.Enc), skR, info);
        AssertHex(v.Enc, sender.Enc);

        foreach (var e in v.Encryptions)
        {
            // A trimmed list skips sequence numbers; jump the counters to the entry's.
            sender.SequenceNumber = e.Seq;
            recipient.SequenceNumber = e.Seq;
            var nonce = new byte[suite.NonceLength];
            sender.Core.ComputeNonce(e.Seq, nonce);
            AssertHex(e.Nonce, nonce);
            AssertHex(e.Ct, sender.Seal(Hex.Decode(e.Pt), Hex.Decode(e.Aad)));
            AssertHex(e.Pt, recipient.Open(Hex.Decode(e.Ct), Hex.Decode(e.Aad)));
            Assert.Equal(e.Seq + 1, sender.SequenceNumber);
            Assert.Equal(e.Seq + 1, recipient.SequenceNumber);
        }

        if (v.Aead == HpkeAead.ExportOnly)
        {
            Assert.Empty(v.Encryptions);
            Assert.Equal(HpkeError.ExportOnly, Assert.Throws<HpkeException>(() => sender.Seal([1, 2, 3], [])).Error);
            Assert.Equal(HpkeError.ExportOnly, Assert.Throws<HpkeException>(() => recipient.Open(new byte[32], [])).Error);
        }

        foreach (var x in v.Exports)
        {
            AssertHex(x.Value, sender.Export(Hex.Decode(x.Context), x.Length));
            AssertHex(x.Value, recipient.Export(Hex.Decode(x.Context), x.Length));
        }
    }

    public static SoftwareEcKey DeriveAndCheck(string ikm, string expectedSecret, string expectedPublic)
    {
        var scalar = DhkemP256.DerivePrivateScalar(Hex.Decode(ikm));
        AssertHex(expectedSecret, scalar);
        var key = DhkemP256.DeriveKeyPair(Hex.Decode(ikm));
        AssertHex(expectedSecret, EcCurve.P256.EncodeFieldElement(key.PrivateScalar));
        AssertHex(expectedPublic, DhkemP256.SerializePublicKey(key.PublicKey));
        return key;
    }

    public static void AssertHex(string expected, ReadOnlySpan<byte> actual) => Assert.Equal(expected, Hex.Encode(actual));
}
