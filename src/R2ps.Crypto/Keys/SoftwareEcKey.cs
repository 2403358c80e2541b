using System.Security.Cryptography;
using R2ps.Crypto.Ec;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;
using BcPoint = Org.BouncyCastle.Math.EC.ECPoint;

namespace R2ps.Crypto.Keys;

/// <summary>
/// An EC private key held in this process (wallet device keys, tests, the self-test). Sealed and disposable: the
/// private scalar this type owns is zeroed on dispose.
/// </summary>
public sealed class SoftwareEcKey : IEcPrivateKey, IDisposable
{
    private readonly byte[] _d;
    private readonly ECDsa _ecdsa;
    private bool _disposed;

    private SoftwareEcKey(EcCurve curve, byte[] d)
    {
        Curve = curve;
        _d = d;
        var scalar = new BcBigInteger(1, d);
        if (scalar.SignValue <= 0 || scalar.CompareTo(curve.Order) >= 0)
            throw new CryptographicException("Private scalar is out of range.");
        PublicKey = new EcPublicKey(curve, curve.MultiplyGenerator(scalar));
        var parameters = PublicKey.ToDotNet();
        parameters.D = d;
        _ecdsa = ECDsa.Create(parameters);
    }

    public EcCurve Curve { get; }

    public EcPublicKey PublicKey { get; }

    public static SoftwareEcKey Generate(EcCurve curve)
    {
        using var key = ECDsa.Create(curve.DotNetCurve);
        return new SoftwareEcKey(curve, key.ExportParameters(true).D!);
    }

    /// <summary>From a big-endian private scalar of field size (copied; the caller keeps ownership of its buffer).</summary>
    public static SoftwareEcKey FromPrivateScalar(EcCurve curve, ReadOnlySpan<byte> d)
    {
        if (d.Length != curve.FieldSize) throw new CryptographicException($"A {curve.Name} private key is {curve.FieldSize} bytes.");
        return new SoftwareEcKey(curve, d.ToArray());
    }

    /// <summary>From PKCS#8 / SEC1 PEM ("PRIVATE KEY" or "EC PRIVATE KEY").</summary>
    public static SoftwareEcKey FromPem(string pem)
    {
        using var key = ECDsa.Create();
        key.ImportFromPem(pem);
        return FromDotNet(key);
    }

    public static SoftwareEcKey FromDotNet(ECDsa key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var parameters = key.ExportParameters(true);
        try
        {
            var curve = EcPublicKey.FromDotNet(parameters).Curve;
            return new SoftwareEcKey(curve, curve.EncodeFieldElement(new BcBigInteger(1, parameters.D!)));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(parameters.D);
        }
    }

    /// <summary>The private scalar as a BouncyCastle integer (PIN hardening multiplies a hashed point by it).</summary>
    public BcBigInteger PrivateScalar
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return new BcBigInteger(1, _d);
        }
    }

    public byte[] ExportPkcs8()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _ecdsa.ExportPkcs8PrivateKey();
    }

    public byte[] SignHash(ReadOnlySpan<byte> hash)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _ecdsa.SignHash(hash.ToArray(), DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }

    public byte[] DeriveSharedSecret(EcPublicKey peer) => Curve.EncodeFieldElement(DeriveSharedPoint(peer).AffineXCoord.ToBigInteger());

    public BcPoint DeriveSharedPoint(EcPublicKey peer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(peer);
        if (!ReferenceEquals(peer.Curve, Curve)) throw new CryptographicException($"Peer key is on {peer.Curve.Name}, not {Curve.Name}.");
        // Blinded: the private key is long-lived and the peer point is the other side's choice.
        var shared = Curve.MultiplySecret(peer.Point, new BcBigInteger(1, _d));
        if (shared.IsInfinity) throw new CryptographicException("ECDH produced the point at infinity.");
        return shared;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        CryptographicOperations.ZeroMemory(_d);
        _ecdsa.Dispose();
    }
}
