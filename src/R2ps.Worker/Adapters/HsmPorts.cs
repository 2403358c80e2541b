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
    public GeneratedClientKey Generate(string owner, EcCurve curve) => Translate(() =>
    {
        var info = keys.GenerateKey(owner, curve);
        return new GeneratedClientKey(info.Kid, info.PublicKey, DateTimeOffset.FromUnixTimeSeconds(info.CreationTime));
    });

    public byte[] SignHash(string owner, string kid, ReadOnlySpan<byte> hash)
    {
        var input = hash.ToArray();
        return Translate(() => keys.SignHash(owner, kid, input));
    }

    public byte[] DeriveSharedSecret(string owner, string kid, EcPublicKey peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        var spki = peer.ToSpki();
        return Translate(() => keys.DeriveSharedSecret(owner, kid, spki));
    }

    public void Delete(string owner, string kid) => Translate(() =>
    {
        keys.DeleteKey(owner, kid);
        return true;
    });

    static T Translate<T>(Func<T> operation)
    {
        try
        {
            return operation();
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
    public byte[] Seal(ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData) => key.Seal(plaintext, associatedData);

    public byte[] Open(ReadOnlySpan<byte> sealedData, ReadOnlySpan<byte> associatedData) => key.Open(sealedData, associatedData);
}

/// <summary><see cref="IServerKeys"/>: the HSM's server key for the one context this worker serves.</summary>
internal sealed class HsmServerKeys(string servedContext, IEcPrivateKey serverKey) : IServerKeys
{
    public IEcPrivateKey? Find(string context) => string.Equals(context, servedContext, StringComparison.Ordinal) ? serverKey : null;
}
