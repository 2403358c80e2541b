using System.Formats.Asn1;
using System.Security.Cryptography;
using BcPoint = Org.BouncyCastle.Math.EC.ECPoint;

namespace R2ps.Crypto.Ec;

/// <summary>
/// X.509 SubjectPublicKeyInfo DER for EC public keys (id-ecPublicKey + named curve), the form PROTOCOL.md uses for
/// <c>public_key</c> fields and the BFF/server key listing. Decoding is strict: named curves only, a valid point, no trailing data.
/// </summary>
public static class SubjectPublicKeyInfo
{
    private const string IdEcPublicKey = "1.2.840.10045.2.1";

    public static byte[] Encode(EcCurve curve, BcPoint point)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier(IdEcPublicKey);
                writer.WriteObjectIdentifier(curve.Oid);
            }
            writer.WriteBitString(curve.EncodeUncompressed(point));
        }
        return writer.Encode();
    }

    public static bool TryDecode(ReadOnlySpan<byte> der, out EcCurve curve, out BcPoint point)
    {
        curve = null!;
        point = null!;
        try
        {
            var reader = new AsnReader(der.ToArray(), AsnEncodingRules.DER);
            var spki = reader.ReadSequence();
            reader.ThrowIfNotEmpty();
            var algorithm = spki.ReadSequence();
            if (algorithm.ReadObjectIdentifier() != IdEcPublicKey) return false;
            if (!EcCurve.TryFromOid(algorithm.ReadObjectIdentifier(), out curve)) return false;
            algorithm.ThrowIfNotEmpty();
            var bits = spki.ReadBitString(out var unused);
            spki.ThrowIfNotEmpty();
            return unused == 0 && curve.TryDecodePoint(bits, out point);
        }
        catch (AsnContentException)
        {
            return false;
        }
    }

    public static (EcCurve Curve, BcPoint Point) Decode(ReadOnlySpan<byte> der) =>
        TryDecode(der, out var curve, out var point)
            ? (curve, point)
            : throw new CryptographicException("Not a valid EC SubjectPublicKeyInfo on P-256, P-384 or P-521.");
}
