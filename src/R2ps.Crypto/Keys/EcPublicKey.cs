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

    /// <summary>.NET key objects kept per key and kind; more than this many in use at once make (and drop) extra ones.</summary>
    private const int MaxPooledKeyObjects = 8;

    // Every request verifies under a key that rarely changes (the device's, the server's), and device-mode responses
    // are encrypted to the device's key: making an ECDsa or ECDiffieHellman from the parameters costs OpenSSL more
    // than the operation itself (it builds and checks the key), so a key keeps the objects it made. One caller at a
    // time uses each (rent/return); a public key holds nothing secret.
    private readonly ConcurrentBag<ECDsa> _verifiers = [];
    private readonly ConcurrentBag<ECDiffieHellman> _agreementKeys = [];

    /// <summary>Runs <paramref name="verify"/> with an ECDsa of this public key, reused across calls.</summary>
    internal T WithVerifier<T>(Func<ECDsa, T> verify) => Rent(_verifiers, () => ECDsa.Create(ToDotNet()), verify);

    /// <summary>Runs <paramref name="agree"/> with an ECDiffieHellman of this public key (the recipient side of ECDH-ES), reused across calls.</summary>
    internal T WithAgreementKey<T>(Func<ECDiffieHellman, T> agree) => Rent(_agreementKeys, () => ECDiffieHellman.Create(ToDotNet()), agree);

    private static TResult Rent<TKey, TResult>(ConcurrentBag<TKey> pool, Func<TKey> create, Func<TKey, TResult> use)
        where TKey : class, IDisposable
    {
        if (!pool.TryTake(out var key)) key = create();
        try
        {
            return use(key);
        }
        finally
        {
            if (pool.Count < MaxPooledKeyObjects) pool.Add(key);
            else key.Dispose();
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
