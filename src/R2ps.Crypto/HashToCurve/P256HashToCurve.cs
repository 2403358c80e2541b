using System.Security.Cryptography;
using R2ps.Crypto.Ec;
using Org.BouncyCastle.Math;
using BcCurve = Org.BouncyCastle.Math.EC.ECCurve;
using ECFieldElement = Org.BouncyCastle.Math.EC.ECFieldElement;
using BcPoint = Org.BouncyCastle.Math.EC.ECPoint;

namespace R2ps.Crypto.HashToCurve;

/// <summary>
/// RFC 9380 suite P256_XMD:SHA-256_SSWU_RO_: hash_to_field (L = 48), the simplified SWU map with Z = -10 (§6.6.2)
/// and hash_to_curve (§3, random-oracle variant). P-256 has cofactor 1, so clear_cofactor is the identity.
/// </summary>
/// <remarks>
/// Correctness first: the map branches on whether g(x1) is a square, so it is not constant time. Its inputs here are
/// hashes of public data or of a PIN/password whose result is blinded or multiplied by a secret scalar afterwards.
/// </remarks>
public static class P256HashToCurve
{
    /// <summary>L = ceil((ceil(log2(p)) + k) / 8) with k = 128.</summary>
    public const int FieldElementExpansion = 48;

    private static readonly BcCurve Curve = EcCurve.P256.Parameters.Curve;
    private static readonly ECFieldElement A = Curve.A;
    private static readonly ECFieldElement B = Curve.B;
    private static readonly ECFieldElement Z = Curve.FromBigInteger(Curve.Field.Characteristic.Subtract(BigInteger.ValueOf(10)));
    private static readonly ECFieldElement One = Curve.FromBigInteger(BigInteger.One);
    private static readonly ECFieldElement MinusBOverA = B.Negate().Divide(A);
    private static readonly ECFieldElement BOverZA = B.Divide(Z.Multiply(A));

    /// <summary>The field prime p of P-256.</summary>
    public static BigInteger FieldPrime => Curve.Field.Characteristic;

    /// <summary>RFC 9380 §5.2 hash_to_field(msg, count) into GF(<paramref name="modulus"/>), L = 48.</summary>
    public static BigInteger[] HashToField(ReadOnlySpan<byte> message, ReadOnlySpan<byte> dst, int count, BigInteger modulus)
    {
        ArgumentNullException.ThrowIfNull(modulus);
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), "count must be at least 1.");
        var uniform = ExpandMessageXmd.Expand(message, dst, count * FieldElementExpansion);
        try
        {
            var elements = new BigInteger[count];
            for (var i = 0; i < count; i++)
            {
                elements[i] = new BigInteger(1, uniform, i * FieldElementExpansion, FieldElementExpansion).Mod(modulus);
            }
            return elements;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(uniform);
        }
    }

    /// <summary>RFC 9380 §6.6.2 simplified SWU for P-256 (A = -3, Z = -10); <paramref name="u"/> must be below p.</summary>
    public static BcPoint MapToCurve(BigInteger u)
    {
        ArgumentNullException.ThrowIfNull(u);
        if (u.SignValue < 0 || u.CompareTo(FieldPrime) >= 0) throw new ArgumentOutOfRangeException(nameof(u), "u must be a field element.");
        var ue = Curve.FromBigInteger(u);

        var zu2 = Z.Multiply(ue.Square());
        var tv1 = zu2.Square().Add(zu2); // Z²u⁴ + Zu²
        var x = tv1.IsZero ? BOverZA : MinusBOverA.Multiply(One.Add(tv1.Invert()));
        var y = CurveRightHandSide(x).Sqrt();
        if (y is null)
        {
            x = zu2.Multiply(x);
            // g(x2) = Z³u⁶·g(x1) is a square whenever g(x1) is not (Z is a non-square), so this cannot fail.
            y = CurveRightHandSide(x).Sqrt() ?? throw new CryptographicException("Simplified SWU found no square root.");
        }
        if (ue.TestBitZero() != y.TestBitZero()) y = y.Negate(); // sgn0(u) == sgn0(y)
        return Curve.CreatePoint(x.ToBigInteger(), y.ToBigInteger());
    }

    /// <summary>RFC 9380 §3 hash_to_curve: map_to_curve(u0) + map_to_curve(u1); normalized, never checked for identity here.</summary>
    public static BcPoint HashToCurve(ReadOnlySpan<byte> message, ReadOnlySpan<byte> dst)
    {
        var u = HashToField(message, dst, 2, FieldPrime);
        return MapToCurve(u[0]).Add(MapToCurve(u[1])).Normalize();
    }

    private static ECFieldElement CurveRightHandSide(ECFieldElement x) => x.Square().Add(A).Multiply(x).Add(B);
}
