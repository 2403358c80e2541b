namespace R2ps.Service.Ports;

/// <summary>
/// Seals small secrets with a key that never leaves the HSM (hsm: <c>HsmSealingKey</c>, AES-GCM). The associated data
/// binds a sealed value to its purpose and owner, so it cannot be replayed in another place. Asynchronous: waiting for
/// a free HSM session holds no thread.
/// </summary>
public interface ISecretSealer
{
    Task<byte[]> SealAsync(ReadOnlyMemory<byte> plaintext, ReadOnlyMemory<byte> associatedData, CancellationToken cancellationToken);

    /// <summary>The plaintext; a <see cref="System.Security.Cryptography.CryptographicException"/> if anything was altered.</summary>
    Task<byte[]> OpenAsync(ReadOnlyMemory<byte> sealedData, ReadOnlyMemory<byte> associatedData, CancellationToken cancellationToken);
}
