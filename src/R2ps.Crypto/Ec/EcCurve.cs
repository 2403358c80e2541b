using System.Security.Cryptography;
using Org.BouncyCastle.Asn1.X9;
using Org.BouncyCastle.Crypto.EC;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Math.EC.Multiplier;
using BcPoint = Org.BouncyCastle.Math.EC.ECPoint;

namespace R2ps.Crypto.Ec;

/// <summary>
/// One of the NIST curves the protocol uses (P-256, P-384, P-521), with strict point encoding and decoding.
/// Points and encodings are BouncyCastle's <see cref="CustomNamedCurves"/> (about 6x faster than the generic table);
/// scalar multiplication runs in OpenSSL where the system has libcrypto 3 (<see cref="OpenSslPointMultiplier"/>:
/// constant time, 4–6 times faster) and in BouncyCastle otherwise.
/// </summary>
public sealed class EcCurve
{
    // The NIDs are OpenSSL's (obj_mac.h): NID_X9_62_prime256v1, NID_secp384r1, NID_secp521r1.
    public static readonly EcCurve P256 = new("P-256", "secp256r1", "1.2.840.10045.3.1.7", 32, ECCurve.NamedCurves.nistP256, HashAlgorithmName.SHA256, 415);
    public static readonly EcCurve P384 = new("P-384", "secp384r1", "1.3.132.0.34", 48, ECCurve.NamedCurves.nistP384, HashAlgorithmName.SHA384, 715);
    public static readonly EcCurve P521 = new("P-521", "secp521r1", "1.3.132.0.35", 66, ECCurve.NamedCurves.nistP521, HashAlgorithmName.SHA512, 716);

    // k·G's fallback: a fixed-point comb whose table BouncyCastle caches on G, about twice as fast as the generic wNAF.
    private static readonly FixedPointCombMultiplier GeneratorComb = new();

    public static IReadOnlyList<EcCurve> All { get; } = [P256, P384, P521];

    /// <summary>What multiplies scalars in this process: "OpenSSL" (libcrypto 3) or "BouncyCastle" (the fallback).</summary>
    public static string ScalarMultiplier => OpenSslPointMultiplier.IsAvailable ? "OpenSSL" : "BouncyCastle";

    private EcCurve(string name, string secName, string oid, int fieldSize, ECCurve dotNetCurve, HashAlgorithmName jwsHash, int openSslNid)
    {
        OpenSslNid = openSslNid;
        Name = name;
        Oid = oid;
        FieldSize = fieldSize;
        DotNetCurve = dotNetCurve;
        JwsHash = jwsHash;
        Parameters = CustomNamedCurves.GetByName(secName) ?? throw new InvalidOperationException($"BouncyCastle lacks {secName}.");
    }

    /// <summary>The JOSE / R2PS name: "P-256", "P-384" or "P-521".</summary>
    public string Name { get; }

    /// <summary>The named-curve OID of the SPKI AlgorithmIdentifier.</summary>
    public string Oid { get; }

    /// <summary>Bytes of one field element (and of one ECDSA scalar, R or S).</summary>
    public int FieldSize { get; }

    public ECCurve DotNetCurve { get; }

    /// <summary>The hash that the matching JWS alg (ES256/ES384/ES512) uses.</summary>
    public HashAlgorithmName JwsHash { get; }

    internal X9ECParameters Parameters { get; }

    internal int OpenSslNid { get; }

    public BigInteger Order => Parameters.N;

    public int CompressedPointSize => 1 + FieldSize;

    public int UncompressedPointSize => 1 + 2 * FieldSize;

    public static EcCurve FromName(string? name) =>
        TryFromName(name, out var curve) ? curve : throw new CryptographicException($"Unsupported curve '{name}'.");

    public static bool TryFromName(string? name, out EcCurve curve)
    {
        foreach (var c in All)
        {
            if (string.Equals(c.Name, name, StringComparison.Ordinal))
            {
                curve = c;
                return true;
            }
        }
        curve = null!;
        return false;
    }

    public static bool TryFromOid(string? oid, out EcCurve curve)
    {
        foreach (var c in All)
        {
            if (string.Equals(c.Oid, oid, StringComparison.Ordinal))
            {
                curve = c;
                return true;
            }
        }
        curve = null!;
        return false;
    }

    /// <summary>
    /// Decodes a SEC1 point (compressed 02/03 or uncompressed 04), rejecting the point at infinity, points off the curve
    /// and coordinates not below the field prime (invalid-curve attacks start with such points).
    /// </summary>
    public bool TryDecodePoint(ReadOnlySpan<byte> encoded, out BcPoint point)
    {
        point = null!;
        if (encoded.Length == CompressedPointSize)
        {
            if (encoded[0] != 0x02 && encoded[0] != 0x03) return false;
        }
        else if (encoded.Length == UncompressedPointSize)
        {
            if (encoded[0] != 0x04) return false;
        }
        else
        {
            return false;
        }

        var prime = Parameters.Curve.Field.Characteristic;
        var x = new BigInteger(1, encoded.Slice(1, FieldSize).ToArray());
        if (x.CompareTo(prime) >= 0) return false;
        if (encoded[0] == 0x04)
        {
            var y = new BigInteger(1, encoded.Slice(1 + FieldSize, FieldSize).ToArray());
            if (y.CompareTo(prime) >= 0) return false;
        }

        try
        {
            var decoded = Parameters.Curve.DecodePoint(encoded.ToArray());
            if (decoded.IsInfinity || !decoded.IsValid()) return false;
            point = decoded.Normalize();
            return true;
        }
        catch (ArgumentException)
        {
            return false; // x has no square root: not a curve point
        }
    }

    public BcPoint DecodePoint(ReadOnlySpan<byte> encoded) =>
        TryDecodePoint(encoded, out var p) ? p : throw new CryptographicException($"Not a valid {Name} point.");

    public byte[] EncodeCompressed(BcPoint point) => point.Normalize().GetEncoded(true);

    public byte[] EncodeUncompressed(BcPoint point) => point.Normalize().GetEncoded(false);

    /// <summary>Reads an unsigned big-endian scalar, requiring 1 ≤ k &lt; n.</summary>
    public bool TryDecodeScalar(ReadOnlySpan<byte> bytes, out BigInteger scalar)
    {
        scalar = new BigInteger(1, bytes.ToArray());
        return scalar.SignValue > 0 && scalar.CompareTo(Order) < 0;
    }

    /// <summary>Fixed-width big-endian encoding of a field element or scalar.</summary>
    public byte[] EncodeFieldElement(BigInteger value) => BigIntegers.AsFixedWidth(value, FieldSize);

    /// <summary>k·P (normalized).</summary>
    public BcPoint Multiply(BcPoint point, BigInteger scalar) =>
        MultiplyInOpenSsl(point, scalar) ?? point.Multiply(scalar).Normalize();

    /// <summary>Random bits of the scalar-blinding factor r (at least 64, as side-channel countermeasures recommend).</summary>
    internal const int BlindingBits = 64;

    /// <summary>
    /// k·P for a long-lived secret k (a server key, a per-credential OPRF key) and a point P an attacker may choose.
    /// OpenSSL's multiply runs in constant time. BouncyCastle's wNAF multiply (the fallback) runs in time and
    /// memory-access pattern that depend on the scalar's digits; repeated on the same key with chosen points, that is a
    /// side channel. So there each call multiplies by k + r·n instead (r fresh, its top bit set so the blinded scalar
    /// always has the same length): the same point, since n·P = O on these prime-order groups, but a different digit
    /// pattern every time.
    /// </summary>
    public BcPoint MultiplySecret(BcPoint point, BigInteger scalar) =>
        MultiplyInOpenSsl(point, scalar) ?? MultiplyBlinded(point, scalar);

    /// <summary>k·G (normalized).</summary>
    public BcPoint MultiplyGenerator(BigInteger scalar) =>
        MultiplyInOpenSsl(null, scalar) ?? GeneratorComb.Multiply(Parameters.G, scalar).Normalize();

    /// <summary>The BouncyCastle fallback of <see cref="MultiplySecret"/>; internal so tests reach it where OpenSSL is present.</summary>
    internal BcPoint MultiplyBlinded(BcPoint point, BigInteger scalar)
    {
        Span<byte> randomBytes = stackalloc byte[BlindingBits / 8];
        RandomNumberGenerator.Fill(randomBytes);
        var r = new BigInteger(1, randomBytes.ToArray()).SetBit(BlindingBits - 1);
        CryptographicOperations.ZeroMemory(randomBytes);
        return point.Multiply(scalar.Add(r.Multiply(Order))).Normalize();
    }

    /// <summary>
    /// k·P (k·G when <paramref name="point"/> is null) in OpenSSL, or null where it cannot be: no libcrypto 3, or a
    /// scalar outside 1..2^(8·field size) (BouncyCastle takes those, as before). The byte copies made here are zeroed:
    /// k; the product, which may be a shared secret (ECDH, OPAQUE's 3DH); and the point, which may be one too (PIN
    /// hardening multiplies the PIN's hash-to-curve point).
    /// </summary>
    private BcPoint? MultiplyInOpenSsl(BcPoint? point, BigInteger scalar)
    {
        if (!OpenSslPointMultiplier.IsAvailable || scalar.SignValue <= 0 || scalar.BitLength > 8 * FieldSize) return null;
        if (point is not null && point.IsInfinity) return null;

        var k = BigIntegers.AsFixedWidth(scalar, FieldSize);
        var encoded = point?.Normalize().GetEncoded(false);
        var product = new byte[UncompressedPointSize];
        try
        {
            if (!OpenSslPointMultiplier.TryMultiply(this, encoded, k, product)) return Parameters.Curve.Infinity;
            // OpenSSL checked the input on the curve and computed the product there: no second validation.
            return Parameters.Curve.CreatePoint(
                new BigInteger(1, product, 1, FieldSize),
                new BigInteger(1, product, 1 + FieldSize, FieldSize));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(k);
            CryptographicOperations.ZeroMemory(product);
            if (encoded is not null) CryptographicOperations.ZeroMemory(encoded);
        }
    }

    /// <summary>The .NET public parameters of a point (for ECDsa / ECDiffieHellman import).</summary>
    public ECParameters ToDotNetPublic(BcPoint point)
    {
        var p = point.Normalize();
        return new ECParameters
        {
            Curve = DotNetCurve,
            Q = new ECPoint
            {
                X = EncodeFieldElement(p.AffineXCoord.ToBigInteger()),
                Y = EncodeFieldElement(p.AffineYCoord.ToBigInteger()),
            },
        };
    }

    public BcPoint FromDotNet(ECPoint q) => DecodePoint([0x04, .. q.X!, .. q.Y!]);

    public override string ToString() => Name;
}

/// <summary>Fixed-width conversions between BouncyCastle integers and big-endian bytes.</summary>
public static class BigIntegers
{
    public static byte[] AsFixedWidth(BigInteger value, int width)
    {
        var raw = value.ToByteArrayUnsigned();
        if (raw.Length > width) throw new CryptographicException("Integer does not fit the field size.");
        if (raw.Length == width) return raw;
        var result = new byte[width];
        raw.CopyTo(result, width - raw.Length);
        return result;
    }
}
