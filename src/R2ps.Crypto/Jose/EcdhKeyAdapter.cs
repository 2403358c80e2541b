using System.Security.Cryptography;
using R2ps.Crypto.Keys;

namespace R2ps.Crypto.Jose;

/// <summary>
/// An <see cref="IEcPrivateKey"/> (the server key lives in the HSM) as the <see cref="ECDiffieHellman"/> that jose-jwt's
/// ECDH-ES key management takes for decryption. jose-jwt runs its Concat KDF as
/// <c>DeriveKeyFromHash(epk, SHA-256, counter, OtherInfo)</c>; here Z comes from <see cref="IEcPrivateKey.DeriveSharedSecret"/>,
/// is hashed as SHA-256(counter ‖ Z ‖ OtherInfo) and zeroed. The private scalar is never reachable.
/// </summary>
internal sealed class EcdhKeyAdapter : ECDiffieHellman
{
    private readonly IEcPrivateKey _key;
    private ECDiffieHellman? _public;

    public EcdhKeyAdapter(IEcPrivateKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        _key = key;
        var bits = key.PublicKey.Curve.Parameters.Curve.FieldSize;
        LegalKeySizesValue = [new KeySizes(bits, bits, 0)];
        KeySizeValue = bits;
    }

    // Made on first use only: jose-jwt's decryption never asks for it, and the server builds one adapter per request.
    public override ECDiffieHellmanPublicKey PublicKey => (_public ??= Create(_key.PublicKey.ToDotNet())).PublicKey;

    public override byte[] DeriveKeyFromHash(ECDiffieHellmanPublicKey otherPartyPublicKey, HashAlgorithmName hashAlgorithm, byte[]? secretPrepend, byte[]? secretAppend)
    {
        var z = DeriveRawSecretAgreement(otherPartyPublicKey);
        try
        {
            using var hash = IncrementalHash.CreateHash(hashAlgorithm);
            if (secretPrepend is not null) hash.AppendData(secretPrepend);
            hash.AppendData(z);
            if (secretAppend is not null) hash.AppendData(secretAppend);
            return hash.GetHashAndReset();
        }
        finally
        {
            CryptographicOperations.ZeroMemory(z);
        }
    }

    /// <summary>Z: the x-coordinate of d·peer. The peer point is validated again (on the curve, not infinity) by <see cref="EcPublicKey"/>.</summary>
    public override byte[] DeriveRawSecretAgreement(ECDiffieHellmanPublicKey otherPartyPublicKey)
    {
        ArgumentNullException.ThrowIfNull(otherPartyPublicKey);
        var peer = EcPublicKey.FromDotNet(otherPartyPublicKey.ExportParameters());
        if (!ReferenceEquals(peer.Curve, _key.PublicKey.Curve))
            throw new CryptographicException($"The peer key is on {peer.Curve.Name}, not {_key.PublicKey.Curve.Name}.");
        return _key.DeriveSharedSecret(peer);
    }

    public override ECParameters ExportParameters(bool includePrivateParameters) =>
        includePrivateParameters
            ? throw new CryptographicException("The private key is not exportable.")
            : _key.PublicKey.ToDotNet();

    public override ECParameters ExportExplicitParameters(bool includePrivateParameters) =>
        throw new NotSupportedException("Only named-curve parameters are exported.");

    public override void ImportParameters(ECParameters parameters) =>
        throw new NotSupportedException("The adapter's key is fixed.");

    public override void GenerateKey(ECCurve curve) =>
        throw new NotSupportedException("The adapter's key is fixed.");

    protected override void Dispose(bool disposing)
    {
        if (disposing) _public?.Dispose();
        base.Dispose(disposing);
    }
}
