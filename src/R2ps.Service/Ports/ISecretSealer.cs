namespace R2ps.Service.Ports;

/// <summary>
/// Seals small secrets with a key that never leaves the HSM (hsm: <c>HsmSealingKey</c>, AES-GCM). The associated data
/// binds a sealed value to its purpose and owner, so it cannot be replayed in another place.
/// </summary>
public interface ISecretSealer
{
    byte[] Seal(ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData);

    /// <summary>The plaintext; a <see cref="System.Security.Cryptography.CryptographicException"/> if anything was altered.</summary>
    byte[] Open(ReadOnlySpan<byte> sealedData, ReadOnlySpan<byte> associatedData);
}
