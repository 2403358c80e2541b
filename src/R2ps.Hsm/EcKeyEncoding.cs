using System.Formats.Asn1;
using System.Security.Cryptography;
using R2ps.Crypto.Ec;
using R2ps.Crypto.Keys;

namespace R2ps.Hsm;

/// <summary>The PKCS#11 and DER encodings around EC keys: CKA_EC_PARAMS, CKA_EC_POINT, ECDSA-Sig-Value.</summary>
internal static class EcKeyEncoding
{
    /// <summary>CKA_EC_PARAMS: the DER of the named curve's OID.</summary>
    public static byte[] EcParameters(EcCurve curve)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        writer.WriteObjectIdentifier(curve.Oid);
        return writer.Encode();
    }

    public static bool TryCurveFromEcParameters(ReadOnlySpan<byte> der, out EcCurve curve)
    {
        curve = null!;
        try
        {
            var reader = new AsnReader(der.ToArray(), AsnEncodingRules.DER);
            var oid = reader.ReadObjectIdentifier();
            reader.ThrowIfNotEmpty();
            return EcCurve.TryFromOid(oid, out curve);
        }
        catch (AsnContentException)
        {
            return false;
        }
    }

    /// <summary>
    /// CKA_EC_POINT: v2.40 says DER OCTET STRING around the SEC1 point; some modules return the bare point. Both are
    /// accepted, and the point is validated on <paramref name="curve"/>.
    /// </summary>
    public static EcPublicKey PublicKeyFromEcPoint(EcCurve curve, byte[] ecPoint)
    {
        if (ecPoint.Length == curve.UncompressedPointSize && ecPoint[0] == 0x04)
            return EcPublicKey.FromSec1(curve, ecPoint);
        try
        {
            var reader = new AsnReader(ecPoint, AsnEncodingRules.DER);
            var point = reader.ReadOctetString();
            reader.ThrowIfNotEmpty();
            return EcPublicKey.FromSec1(curve, point);
        }
        catch (AsnContentException e)
        {
            throw new CryptographicException("The module returned a CKA_EC_POINT that is neither a SEC1 point nor one in an OCTET STRING.", e);
        }
    }

    /// <summary>Raw R‖S (the PKCS#11 CKM_ECDSA output) → DER ECDSA-Sig-Value (SEC1 / RFC 3279).</summary>
    public static byte[] RawSignatureToDer(ReadOnlySpan<byte> raw)
    {
        if (raw.Length == 0 || raw.Length % 2 != 0) throw new CryptographicException("A raw ECDSA signature is two equal halves.");
        var half = raw.Length / 2;
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteIntegerUnsigned(Minimal(raw[..half]));
            writer.WriteIntegerUnsigned(Minimal(raw[half..]));
        }
        return writer.Encode();

        // DER integers carry no redundant leading zeros (P-521's 66-byte halves always start with some).
        static ReadOnlySpan<byte> Minimal(ReadOnlySpan<byte> value)
        {
            var start = 0;
            while (start < value.Length - 1 && value[start] == 0) start++;
            return value[start..];
        }
    }

    /// <summary>
    /// The hash as ECDSA uses it: the leftmost bits of the order's length (FIPS 186-5 §6.4.1, SEC1 §4.1.3 step 5).
    /// Every hash here is whole bytes and P-521's 521 bits exceed the longest (SHA-512), so truncation is to whole
    /// bytes; done here rather than left to the module because some HSMs reject over-long input instead of truncating.
    /// </summary>
    public static ReadOnlySpan<byte> TruncateHash(EcCurve curve, ReadOnlySpan<byte> hash)
    {
        var orderBytes = (curve.Order.BitLength + 7) / 8;
        return hash.Length > orderBytes && curve.Order.BitLength % 8 == 0 ? hash[..orderBytes] : hash;
    }
}
