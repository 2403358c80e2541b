using R2ps.Crypto.Ec;
using R2ps.Crypto.Keys;

namespace R2ps.Service.Ports;

/// <summary>A key pair just generated in the HSM.</summary>
/// <param name="Kid">Lowercase hex of the compressed public key.</param>
/// <param name="PublicKey">The public key.</param>
/// <param name="CreatedAt">Creation time.</param>
public sealed record GeneratedClientKey(string Kid, EcPublicKey PublicKey, DateTimeOffset CreatedAt);

/// <summary>
/// The clients' keys in the HSM (hsm: <c>HsmKeyService</c>). Every call names the owner; the HSM checks it too, so an
/// inconsistency between store and HSM can never hand one client another's key. Asynchronous: waiting for a free HSM
/// session holds no thread.
/// </summary>
public interface IClientKeyOperations
{
    Task<GeneratedClientKey> GenerateAsync(string owner, EcCurve curve, CancellationToken cancellationToken);

    /// <summary>ECDSA over a 32/48/64-byte hash; the signature as DER ECDSA-Sig-Value.</summary>
    Task<byte[]> SignHashAsync(string owner, string kid, ReadOnlyMemory<byte> hash, CancellationToken cancellationToken);

    /// <summary>ECDH with a peer on the key's curve: the x-coordinate, field-size bytes.</summary>
    Task<byte[]> DeriveSharedSecretAsync(string owner, string kid, EcPublicKey peer, CancellationToken cancellationToken);

    Task DeleteAsync(string owner, string kid, CancellationToken cancellationToken);
}
