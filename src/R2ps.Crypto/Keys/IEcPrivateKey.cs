using System.Security.Cryptography;
using BcPoint = Org.BouncyCastle.Math.EC.ECPoint;

namespace R2ps.Crypto.Keys;

/// <summary>
/// An EC private key that may live outside this process (an HSM through PKCS#11) or in software. Protocol code
/// (JOSE, HPKE, OPAQUE) depends only on this, so the server key can be an HSM key and the wallet's a software key.
/// </summary>
public interface IEcPrivateKey
{
    EcPublicKey PublicKey { get; }

    /// <summary>ECDSA over a prehash; the signature as raw R‖S, each field-size bytes (the JWS form).</summary>
    byte[] SignHash(ReadOnlySpan<byte> hash);

    /// <summary>ECDH: the x-coordinate of d·peer, field-size bytes (SEC1 §3.3.1, the JOSE and HPKE "Z").</summary>
    byte[] DeriveSharedSecret(EcPublicKey peer);

    /// <summary>
    /// ECDH returning the whole point d·peer, for protocols that hash the full element (OPAQUE-3DH serializes it
    /// compressed). An HSM that returns only x recovers y, e.g. from a second derive.
    /// </summary>
    BcPoint DeriveSharedPoint(EcPublicKey peer);
}

/// <summary>
/// A key whose signing waits on something outside the process (an HSM session from a bounded pool): the asynchronous
/// member waits without holding a thread. Servers sign every response with such a key, so their hot path awaits it
/// (<see cref="Jose.Jws.SignAsync"/>) rather than block a thread-pool thread while the pool is busy.
/// </summary>
public interface IAsyncEcPrivateKey : IEcPrivateKey
{
    /// <summary><see cref="IEcPrivateKey.SignHash"/>, asynchronously: ECDSA over a prehash, raw R‖S.</summary>
    Task<byte[]> SignHashAsync(ReadOnlyMemory<byte> hash, CancellationToken cancellationToken);

    /// <summary><see cref="IEcPrivateKey.DeriveSharedSecret"/>, asynchronously.</summary>
    Task<byte[]> DeriveSharedSecretAsync(EcPublicKey peer, CancellationToken cancellationToken);

    /// <summary><see cref="IEcPrivateKey.DeriveSharedPoint"/>, asynchronously.</summary>
    Task<BcPoint> DeriveSharedPointAsync(EcPublicKey peer, CancellationToken cancellationToken);
}

/// <summary>
/// A key's agreement with one peer, computed beforehand (asynchronously, see <see cref="IAsyncEcPrivateKey"/>), handed to
/// synchronous protocol code (jose-jwt's ECDH-ES, the OPAQUE server) as the key itself: it answers
/// <see cref="DeriveSharedSecret"/> and <see cref="DeriveSharedPoint"/> for that peer only and refuses every other use,
/// so it cannot be turned into an oracle for other points. Not owned: the caller zeroes nothing it did not make.
/// </summary>
public sealed class PrecomputedAgreementKey : IEcPrivateKey
{
    private readonly EcPublicKey _peer;
    private readonly BcPoint? _shared;
    private readonly byte[]? _secret;

    /// <summary>Answers <see cref="DeriveSharedPoint"/> (and <see cref="DeriveSharedSecret"/>) for <paramref name="peer"/>: <paramref name="shared"/> = d·peer.</summary>
    public PrecomputedAgreementKey(IEcPrivateKey key, EcPublicKey peer, BcPoint shared)
        : this(key, peer)
    {
        ArgumentNullException.ThrowIfNull(shared);
        _shared = shared.Normalize();
    }

    /// <summary>Answers <see cref="DeriveSharedSecret"/> only, for <paramref name="peer"/>: <paramref name="secret"/> = x(d·peer) (not copied).</summary>
    public PrecomputedAgreementKey(IEcPrivateKey key, EcPublicKey peer, byte[] secret)
        : this(key, peer)
    {
        ArgumentNullException.ThrowIfNull(secret);
        _secret = secret;
    }

    private PrecomputedAgreementKey(IEcPrivateKey key, EcPublicKey peer)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(peer);
        PublicKey = key.PublicKey;
        _peer = peer;
    }

    public EcPublicKey PublicKey { get; }

    public byte[] SignHash(ReadOnlySpan<byte> hash) => throw new CryptographicException("This key only answers one precomputed agreement.");

    public byte[] DeriveSharedSecret(EcPublicKey peer)
    {
        Require(peer);
        return _secret is not null ? (byte[])_secret.Clone() : PublicKey.Curve.EncodeFieldElement(_shared!.AffineXCoord.ToBigInteger());
    }

    public BcPoint DeriveSharedPoint(EcPublicKey peer)
    {
        Require(peer);
        return _shared ?? throw new CryptographicException("Only the shared secret was precomputed, not the point.");
    }

    private void Require(EcPublicKey peer)
    {
        if (!_peer.Equals(peer)) throw new CryptographicException("The agreement was precomputed for another peer.");
    }
}
