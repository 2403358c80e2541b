using System.Security.Cryptography;
using R2ps.Crypto.Opaque;
using R2ps.Service.Ports;

namespace R2ps.Service;

/// <summary>
/// The server's OPRF seed (RFC 9807 §4.1 oprf_seed): generated once, sealed by the HSM, stored durably and shared by
/// every worker, unsealed at start. Changing it would invalidate every stored OPAQUE record.
/// </summary>
public sealed class OprfSeed : IDisposable
{
    /// <summary>The name of the sealed blob in <see cref="ISealedSecretStore"/>.</summary>
    public const string StoreName = "opaque-oprf-seed";

    private static readonly byte[] AssociatedData = "r2ps/oprf-seed/v1"u8.ToArray();

    private readonly byte[] _seed;
    private bool _disposed;

    private OprfSeed(byte[] seed) => _seed = seed;

    /// <summary>The seed; valid until <see cref="Dispose"/>.</summary>
    public ReadOnlySpan<byte> Value
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _seed;
        }
    }

    /// <summary>Reads and unseals the stored seed, or creates, seals and stores it (a concurrent creator wins once).</summary>
    public static async Task<OprfSeed> LoadOrCreateAsync(ISealedSecretStore store, ISecretSealer sealer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(sealer);
        var existing = await store.GetAsync(StoreName, cancellationToken).ConfigureAwait(false);
        if (existing is null)
        {
            var fresh = RandomNumberGenerator.GetBytes(OpaqueSizes.OprfSeed);
            try
            {
                var sealedSeed = await sealer.SealAsync(fresh, AssociatedData, cancellationToken).ConfigureAwait(false);
                if (await store.TryAddAsync(StoreName, sealedSeed, cancellationToken).ConfigureAwait(false))
                    return new OprfSeed(fresh);
            }
            catch
            {
                CryptographicOperations.ZeroMemory(fresh);
                throw;
            }
            CryptographicOperations.ZeroMemory(fresh);
            existing = await store.GetAsync(StoreName, cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException("The OPRF seed vanished from the store after another worker created it.");
        }

        var seed = await sealer.OpenAsync(existing, AssociatedData, cancellationToken).ConfigureAwait(false);
        if (seed.Length != OpaqueSizes.OprfSeed)
        {
            CryptographicOperations.ZeroMemory(seed);
            throw new CryptographicException("The stored OPRF seed has the wrong length.");
        }
        return new OprfSeed(seed);
    }

    /// <summary>A seed from bytes already held (tests, tools); the bytes are copied.</summary>
    public static OprfSeed FromBytes(ReadOnlySpan<byte> seed)
    {
        if (seed.Length != OpaqueSizes.OprfSeed) throw new ArgumentException($"An OPRF seed is {OpaqueSizes.OprfSeed} bytes.", nameof(seed));
        return new OprfSeed(seed.ToArray());
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        CryptographicOperations.ZeroMemory(_seed);
    }
}
