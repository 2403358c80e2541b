using System.Collections.Concurrent;
using System.Security.Cryptography;
using R2ps.Crypto.Ec;
using BcPoint = Org.BouncyCastle.Math.EC.ECPoint;

namespace R2ps.Crypto.Keys;

/// <summary>A validated EC public key: always a point on its curve, never infinity.</summary>
public sealed class EcPublicKey : IEquatable<EcPublicKey>
{
    public EcPublicKey(EcCurve curve, BcPoint point)
    {
        ArgumentNullException.ThrowIfNull(curve);
        ArgumentNullException.ThrowIfNull(point);
        if (point.IsInfinity || !point.IsValid()) throw new CryptographicException($"Not a valid {curve.Name} point.");
        Curve = curve;
        Point = point.Normalize();
    }

    public EcCurve Curve { get; }

    /// <summary>The affine point (BouncyCastle), for group arithmetic.</summary>
    public BcPoint Point { get; }

    public static EcPublicKey FromSec1(EcCurve curve, ReadOnlySpan<byte> encoded) => new(curve, curve.DecodePoint(encoded));

    public static bool TryFromSec1(EcCurve curve, ReadOnlySpan<byte> encoded, out EcPublicKey key)
    {
        key = null!;
        if (!curve.TryDecodePoint(encoded, out var point)) return false;
        key = new EcPublicKey(curve, point);
        return true;
    }

    public static EcPublicKey FromSpki(ReadOnlySpan<byte> der)
    {
        var (curve, point) = SubjectPublicKeyInfo.Decode(der);
        return new EcPublicKey(curve, point);
    }

    public static bool TryFromSpki(ReadOnlySpan<byte> der, out EcPublicKey key)
    {
        key = null!;
        if (!SubjectPublicKeyInfo.TryDecode(der, out var curve, out var point)) return false;
        key = new EcPublicKey(curve, point);
        return true;
    }

    public static EcPublicKey FromDotNet(ECParameters parameters) =>
        new(CurveOf(parameters.Curve), CurveOf(parameters.Curve).FromDotNet(parameters.Q));

    public byte[] ToCompressed() => Curve.EncodeCompressed(Point);

    public byte[] ToUncompressed() => Curve.EncodeUncompressed(Point);

    public byte[] ToSpki() => SubjectPublicKeyInfo.Encode(Curve, Point);

    /// <summary>x-coordinate, field-size bytes, big-endian.</summary>
    public byte[] X => Curve.EncodeFieldElement(Point.AffineXCoord.ToBigInteger());

    /// <summary>y-coordinate, field-size bytes, big-endian.</summary>
    public byte[] Y => Curve.EncodeFieldElement(Point.AffineYCoord.ToBigInteger());

    public ECParameters ToDotNet() => Curve.ToDotNetPublic(Point);

    /// <summary>Verifiers kept per key; more than this many verifying at once make (and drop) extra ones.</summary>
    private const int MaxPooledVerifiers = 8;

    // Every request verifies under a key that rarely changes (the device's, the server's): making an ECDsa from the
    // parameters costs OpenSSL more than the verification itself (it builds and checks the key), so a key keeps the
    // ECDsa objects it made. One caller at a time uses each (rent/return); a public key holds nothing secret.
    private readonly ConcurrentBag<ECDsa> _verifiers = [];

    /// <summary>Runs <paramref name="verify"/> with an ECDsa of this public key, reused across calls.</summary>
    internal T WithVerifier<T>(Func<ECDsa, T> verify)
    {
        if (!_verifiers.TryTake(out var ecdsa)) ecdsa = ECDsa.Create(ToDotNet());
        try
        {
            return verify(ecdsa);
        }
        finally
        {
            if (_verifiers.Count < MaxPooledVerifiers) _verifiers.Add(ecdsa);
            else ecdsa.Dispose();
        }
    }

    public bool Equals(EcPublicKey? other) => other is not null && ReferenceEquals(Curve, other.Curve) && Point.Equals(other.Point);

    public override bool Equals(object? obj) => Equals(obj as EcPublicKey);

    public override int GetHashCode() => Point.GetHashCode();

    private static EcCurve CurveOf(ECCurve curve)
    {
        var oid = curve.Oid?.Value;
        foreach (var c in EcCurve.All)
            if (c.Oid == oid || c.DotNetCurve.Oid.FriendlyName == curve.Oid?.FriendlyName) return c;
        throw new CryptographicException("Unsupported curve.");
    }
}
