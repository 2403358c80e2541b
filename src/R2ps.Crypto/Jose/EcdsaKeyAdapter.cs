using System.Security.Cryptography;
using R2ps.Crypto.Keys;

namespace R2ps.Crypto.Jose;

/// <summary>
/// An <see cref="IEcPrivateKey"/> (software or HSM) as the <see cref="ECDsa"/> jose-jwt signs with: jose-jwt hashes the
/// signing input and <see cref="SignHash(byte[])"/> hands the hash to the key, so an HSM key signs through jose-jwt
/// without its private scalar ever being reachable (<see cref="ExportParameters"/> refuses private parameters).
/// </summary>
internal sealed class EcdsaKeyAdapter : ECDsa
{
    private readonly IEcPrivateKey _key;

    public EcdsaKeyAdapter(IEcPrivateKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        _key = key;
        // jose-jwt checks KeySize against the alg (256, 384, 521); BouncyCastle's field size in bits is exactly that.
        var bits = key.PublicKey.Curve.Parameters.Curve.FieldSize;
        LegalKeySizesValue = [new KeySizes(bits, bits, 0)];
        KeySizeValue = bits;
    }

    public override byte[] SignHash(byte[] hash)
    {
        var signature = _key.SignHash(hash);
        if (signature.Length != 2 * _key.PublicKey.Curve.FieldSize)
            throw new CryptographicException("The signing key returned a signature that is not raw R‖S of the curve's size.");
        return signature;
    }

    public override bool VerifyHash(byte[] hash, byte[] signature)
    {
        using var publicKey = Create(_key.PublicKey.ToDotNet());
        return publicKey.VerifyHash(hash, signature);
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
}
