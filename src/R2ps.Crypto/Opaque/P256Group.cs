using System.Security.Cryptography;
using R2ps.Crypto.Ec;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;
using BcPoint = Org.BouncyCastle.Math.EC.ECPoint;

namespace R2ps.Crypto.Opaque;

/// <summary>
/// The P-256 prime-order group as RFC 9497 §4.3 serializes it: elements are SEC1 compressed (Ne = 33), scalars are
/// big-endian (Ns = 32). Deserialization is strict: it rejects every other length, prefix, off-curve x and the identity.
/// </summary>
internal static class P256Group
{
    public const int ElementSize = 33;
    public const int ScalarSize = 32;

    public static EcCurve Curve => EcCurve.P256;

    public static BcBigInteger Order => EcCurve.P256.Order;

    public static BcPoint DeserializeElement(ReadOnlySpan<byte> encoded, string what)
    {
        if (encoded.Length != ElementSize)
            throw new OpaqueException(OpaqueError.InvalidLength, $"{what} must be a {ElementSize}-byte compressed P-256 point.");
        if (!EcCurve.P256.TryDecodePoint(encoded, out var point))
            throw new OpaqueException(OpaqueError.InvalidPoint, $"{what} is not a valid P-256 point.");
        return point;
    }

    public static byte[] SerializeElement(BcPoint point)
    {
        if (point.IsInfinity) throw new OpaqueException(OpaqueError.InvalidPoint, "The identity element cannot be serialized.");
        return point.Normalize().GetEncoded(true);
    }

    public static void SerializeElement(BcPoint point, Span<byte> destination) => SerializeElement(point).CopyTo(destination);

    /// <summary>Reads a scalar, requiring 1 ≤ k &lt; n.</summary>
    public static BcBigInteger DeserializeScalar(ReadOnlySpan<byte> encoded, string what)
    {
        if (encoded.Length != ScalarSize)
            throw new OpaqueException(OpaqueError.InvalidLength, $"{what} must be a {ScalarSize}-byte scalar.");
        if (!EcCurve.P256.TryDecodeScalar(encoded, out var scalar))
            throw new OpaqueException(OpaqueError.InvalidScalar, $"{what} is not a scalar in [1, n-1].");
        return scalar;
    }

    public static byte[] SerializeScalar(BcBigInteger scalar) => BigIntegers.AsFixedWidth(scalar, ScalarSize);

    public static BcPoint Multiply(BcPoint point, BcBigInteger scalar) => EcCurve.P256.Multiply(point, scalar);

    /// <summary>k·P for a long-lived secret k on a chosen point: constant time in OpenSSL, blinded in the BouncyCastle fallback (see <see cref="EcCurve.MultiplySecret"/>).</summary>
    public static BcPoint MultiplySecret(BcPoint point, BcBigInteger scalar) => EcCurve.P256.MultiplySecret(point, scalar);

    public static BcPoint MultiplyGenerator(BcBigInteger scalar) => EcCurve.P256.MultiplyGenerator(scalar);
}
