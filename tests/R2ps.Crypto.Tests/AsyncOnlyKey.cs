using R2ps.Crypto.Keys;
using BcPoint = Org.BouncyCastle.Math.EC.ECPoint;

namespace R2ps.Crypto.Tests;

/// <summary>
/// A key whose synchronous members must not be used, as an HSM key on a busy session pool would block a thread in them:
/// its asynchronous members delegate to a software key and count the calls.
/// </summary>
internal sealed class AsyncOnlyKey(SoftwareEcKey inner) : IAsyncEcPrivateKey
{
    private int _asyncSignatures;
    private int _asyncAgreements;

    public int AsyncSignatures => _asyncSignatures;

    public int AsyncAgreements => _asyncAgreements;

    public EcPublicKey PublicKey => inner.PublicKey;

    public byte[] SignHash(ReadOnlySpan<byte> hash) => throw new InvalidOperationException("The synchronous SignHash was called.");

    public byte[] DeriveSharedSecret(EcPublicKey peer) => throw new InvalidOperationException("The synchronous DeriveSharedSecret was called.");

    public BcPoint DeriveSharedPoint(EcPublicKey peer) => throw new InvalidOperationException("The synchronous DeriveSharedPoint was called.");

    public async Task<byte[]> SignHashAsync(ReadOnlyMemory<byte> hash, CancellationToken cancellationToken)
    {
        await Task.Yield();
        Interlocked.Increment(ref _asyncSignatures);
        return inner.SignHash(hash.Span);
    }

    public async Task<byte[]> DeriveSharedSecretAsync(EcPublicKey peer, CancellationToken cancellationToken)
    {
        await Task.Yield();
        Interlocked.Increment(ref _asyncAgreements);
        return inner.DeriveSharedSecret(peer);
    }

    public async Task<BcPoint> DeriveSharedPointAsync(EcPublicKey peer, CancellationToken cancellationToken)
    {
        await Task.Yield();
        Interlocked.Increment(ref _asyncAgreements);
        return inner.DeriveSharedPoint(peer);
    }
}
