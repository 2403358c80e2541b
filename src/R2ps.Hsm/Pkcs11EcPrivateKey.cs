using System.Security.Cryptography;
using R2ps.Crypto.Ec;
using R2ps.Crypto.Keys;
using Net.Pkcs11Interop.HighLevelAPI;
using R2ps.Hsm.Pkcs11;
using BcPoint = Org.BouncyCastle.Math.EC.ECPoint;

namespace R2ps.Hsm;

/// <summary>
/// A service EC key (the server key) that lives in the HSM, as an <see cref="IEcPrivateKey"/> for protocol code.
/// Nothing secret is held in this process; the object is a handle and the public key.
/// </summary>
/// <remarks>
/// <see cref="IEcPrivateKey"/> is synchronous (JOSE, HPKE and OPAQUE code calls it inline), so its members wait for a
/// session by blocking when the pool is exhausted; callers that can await use the <c>…Async</c> members, which wait
/// without holding a thread.
/// </remarks>
public sealed class Pkcs11EcPrivateKey : IAsyncEcPrivateKey
{
    private readonly HsmConnection _connection;
    private readonly IObjectHandle _handle;

    internal Pkcs11EcPrivateKey(HsmConnection connection, IObjectHandle handle, string label, EcPublicKey publicKey)
    {
        _connection = connection;
        _handle = handle;
        Label = label;
        PublicKey = publicKey;
    }

    public string Label { get; }

    /// <summary>The object this key signs and derives with (a session-object copy, or the token object itself).</summary>
    internal IObjectHandle Handle => _handle;

    /// <summary>The same key through another object handle (see <see cref="HsmConnection.WorkingHandleAsync"/>).</summary>
    internal Pkcs11EcPrivateKey WithHandle(IObjectHandle handle) => new(_connection, handle, Label, PublicKey);

    public EcPublicKey PublicKey { get; }

    public EcCurve Curve => PublicKey.Curve;

    /// <summary>ECDSA over a prehash (at most 64 bytes; longer than the order → leftmost bits), raw R‖S.</summary>
    public byte[] SignHash(ReadOnlySpan<byte> hash)
    {
        if (hash.IsEmpty || hash.Length > 64) throw new CryptographicException("An ECDSA prehash is 1 to 64 bytes.");
        var input = EcKeyEncoding.TruncateHash(Curve, hash).ToArray();
        return _connection.Run(session => Pkcs11Mechanisms.SignEcdsa(session, _handle, input, Curve.FieldSize));
    }

    /// <summary><see cref="SignHash"/>, waiting for a session without holding a thread.</summary>
    public async Task<byte[]> SignHashAsync(ReadOnlyMemory<byte> hash, CancellationToken cancellationToken = default)
    {
        if (hash.IsEmpty || hash.Length > 64) throw new CryptographicException("An ECDSA prehash is 1 to 64 bytes.");
        var input = EcKeyEncoding.TruncateHash(Curve, hash.Span).ToArray();
        return await _connection.RunAsync(session => Pkcs11Mechanisms.SignEcdsa(session, _handle, input, Curve.FieldSize), cancellationToken).ConfigureAwait(false);
    }

    public byte[] DeriveSharedSecret(EcPublicKey peer)
    {
        CheckPeer(peer);
        var encodedPeer = peer.ToUncompressed();
        return _connection.Run(session => Pkcs11Mechanisms.DeriveEcdh(session, _handle, encodedPeer, Curve.FieldSize));
    }

    /// <summary><see cref="DeriveSharedSecret"/>, waiting for a session without holding a thread.</summary>
    public async Task<byte[]> DeriveSharedSecretAsync(EcPublicKey peer, CancellationToken cancellationToken = default)
    {
        CheckPeer(peer);
        var encodedPeer = peer.ToUncompressed();
        return await _connection.RunAsync(session => Pkcs11Mechanisms.DeriveEcdh(session, _handle, encodedPeer, Curve.FieldSize), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The full point S = d·P although PKCS#11 ECDH yields only x(S). The two points with that x are S and −S; a
    /// second derive against P + G yields x(d·(P + G)) = x(S + Q), Q = d·G being our public key, and exactly one of
    /// S + Q and −S + Q has that x (they could only share it if 2·S or 2·Q were the identity, impossible in a group of
    /// odd prime order). The one case without a second derive is P = −G, where P + G is the identity: then S = −Q.
    /// Costs two HSM derives and a few point additions.
    /// </summary>
    public BcPoint DeriveSharedPoint(EcPublicKey peer)
    {
        if (Shifted(peer) is not { } shifted) return PublicKey.Point.Negate().Normalize();
        return Recover(_connection.Run(session => DeriveBoth(session, peer, shifted)));
    }

    /// <summary><see cref="DeriveSharedPoint"/>, waiting for a session without holding a thread.</summary>
    public async Task<BcPoint> DeriveSharedPointAsync(EcPublicKey peer, CancellationToken cancellationToken = default)
    {
        if (Shifted(peer) is not { } shifted) return PublicKey.Point.Negate().Normalize();
        return Recover(await _connection.RunAsync(session => DeriveBoth(session, peer, shifted), cancellationToken).ConfigureAwait(false));
    }

    /// <summary>P + G, or null for P = −G.</summary>
    private EcPublicKey? Shifted(EcPublicKey peer)
    {
        CheckPeer(peer);
        var shiftedPoint = peer.Point.Add(Curve.MultiplyGenerator(Org.BouncyCastle.Math.BigInteger.One)).Normalize();
        return shiftedPoint.IsInfinity ? null : new EcPublicKey(Curve, shiftedPoint);
    }

    private (byte[] X, byte[] ShiftedX) DeriveBoth(ISession session, EcPublicKey peer, EcPublicKey shifted)
    {
        var x = Pkcs11Mechanisms.DeriveEcdh(session, _handle, peer.ToUncompressed(), Curve.FieldSize);
        try
        {
            return (x, Pkcs11Mechanisms.DeriveEcdh(session, _handle, shifted.ToUncompressed(), Curve.FieldSize));
        }
        catch
        {
            CryptographicOperations.ZeroMemory(x);
            throw;
        }
    }

    /// <summary>Which of ±(x, y) is d·P, from x(d·P) and x(d·(P + G)); both inputs are wiped.</summary>
    private BcPoint Recover((byte[] X, byte[] ShiftedX) derived)
    {
        var (x, shiftedX) = derived;
        var curve = Curve;
        var q = PublicKey.Point;
        try
        {
            Span<byte> compressed = stackalloc byte[curve.CompressedPointSize];
            x.CopyTo(compressed[1..]);
            compressed[0] = 0x02;
            var candidate = curve.DecodePoint(compressed);
            var sum = candidate.Add(q).Normalize();
            if (!sum.IsInfinity && CryptographicOperations.FixedTimeEquals(curve.EncodeFieldElement(sum.AffineXCoord.ToBigInteger()), shiftedX))
                return candidate;
            var negated = candidate.Negate().Normalize();
            sum = negated.Add(q).Normalize();
            if (!sum.IsInfinity && CryptographicOperations.FixedTimeEquals(curve.EncodeFieldElement(sum.AffineXCoord.ToBigInteger()), shiftedX))
                return negated;
            throw new CryptographicException("The HSM's two ECDH results are inconsistent; the shared point cannot be recovered.");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(x);
            CryptographicOperations.ZeroMemory(shiftedX);
        }
    }

    private void CheckPeer(EcPublicKey peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        if (!ReferenceEquals(peer.Curve, Curve)) throw new CryptographicException($"Peer key is on {peer.Curve.Name}, not {Curve.Name}.");
    }
}
