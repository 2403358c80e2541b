using R2ps.Crypto.Ec;
using R2ps.Crypto.Keys;
using R2ps.Hsm;
using R2ps.Protocol;
using R2ps.Service.Ports;

namespace R2ps.Worker.Adapters;

/// <summary>
/// <see cref="IClientKeyOperations"/> over <see cref="HsmKeyService"/>. HSM refusals become protocol errors: a key the
/// owner does not have → ACCESS_DENIED (exactly like an unknown one), a malformed input → ILLEGAL_REQUEST_DATA, no free
/// HSM session in time → SERVICE_UNAVAILABLE. Anything else stays a fault (SERVER_ERROR).
/// </summary>
internal sealed class HsmClientKeys(HsmKeyService keys) : IClientKeyOperations
{
    public Task<GeneratedClientKey> GenerateAsync(string owner, EcCurve curve, CancellationToken cancellationToken) => TranslateAsync(async () =>
    {
        var info = await keys.GenerateKeyAsync(owner, curve, cancellationToken).ConfigureAwait(false);
        return new GeneratedClientKey(info.Kid, info.PublicKey, DateTimeOffset.FromUnixTimeSeconds(info.CreationTime));
    });

    public Task<byte[]> SignHashAsync(string owner, string kid, ReadOnlyMemory<byte> hash, CancellationToken cancellationToken) =>
        TranslateAsync(() => keys.SignHashAsync(owner, kid, hash, cancellationToken));

    public Task<byte[]> DeriveSharedSecretAsync(string owner, string kid, EcPublicKey peer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(peer);
        var spki = peer.ToSpki();
        return TranslateAsync(() => keys.DeriveSharedSecretAsync(owner, kid, spki, cancellationToken));
    }

    public Task DeleteAsync(string owner, string kid, CancellationToken cancellationToken) => TranslateAsync(async () =>
    {
        await keys.DeleteKeyAsync(owner, kid, cancellationToken).ConfigureAwait(false);
        return true;
    });

    static async Task<T> TranslateAsync<T>(Func<Task<T>> operation)
    {
        try
        {
            return await operation().ConfigureAwait(false);
        }
        catch (HsmKeyNotFoundException e)
        {
            throw new R2psException(ErrorCode.AccessDenied, "The key is unknown.", e);
        }
        catch (HsmInvalidRequestException e)
        {
            // Its messages describe the input only (sizes, curves), never key material.
            throw new R2psException(ErrorCode.IllegalRequestData, e.Message, e);
        }
        catch (HsmBusyException e)
        {
            throw new R2psException(ErrorCode.ServiceUnavailable, "The HSM is busy; try again.", e);
        }
    }
}

/// <summary><see cref="ISecretSealer"/> over the HSM's AES-GCM sealing key.</summary>
internal sealed class HsmSecretSealer(HsmSealingKey key) : ISecretSealer
{
    public Task<byte[]> SealAsync(ReadOnlyMemory<byte> plaintext, ReadOnlyMemory<byte> associatedData, CancellationToken cancellationToken) =>
        key.SealAsync(plaintext, associatedData, cancellationToken);

    public Task<byte[]> OpenAsync(ReadOnlyMemory<byte> sealedData, ReadOnlyMemory<byte> associatedData, CancellationToken cancellationToken) =>
        key.OpenAsync(sealedData, associatedData, cancellationToken);
}

/// <summary><see cref="IServerKeys"/>: the HSM's server key for the one context this worker serves.</summary>
internal sealed class HsmServerKeys(string servedContext, IEcPrivateKey serverKey) : IServerKeys
{
    public IEcPrivateKey? Find(string context) => string.Equals(context, servedContext, StringComparison.Ordinal) ? serverKey : null;
}
