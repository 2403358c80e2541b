namespace R2ps.Store;

/// <summary>Metadata of a key held in the HSM (PROTOCOL.md 1.4). The private key never leaves the HSM.</summary>
/// <param name="Kid">Lowercase hex of the SEC1 compressed public key.</param>
/// <param name="OwnerClientId">The <c>client_id</c> that created it; no other client may see or use it.</param>
/// <param name="CurveName"><c>P-256</c>, <c>P-384</c> or <c>P-521</c>.</param>
/// <param name="CreatedAt">Creation time (reported as epoch seconds).</param>
public sealed record HsmKeyInfo(string Kid, string OwnerClientId, string CurveName, DateTimeOffset CreatedAt);

/// <summary>The HSM key already has metadata.</summary>
public sealed class HsmKeyAlreadyExistsException : StoreConflictException
{
    /// <summary>Creates the exception.</summary>
    public HsmKeyAlreadyExistsException() : base("An HSM key with this kid is already stored.") { }

    /// <summary>Creates the exception with a message.</summary>
    public HsmKeyAlreadyExistsException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and cause.</summary>
    public HsmKeyAlreadyExistsException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>
/// HSM key metadata, always scoped to an owner: every lookup takes the caller's <c>client_id</c>, and another
/// owner's key is indistinguishable from an absent one.
/// </summary>
public interface IHsmKeyStore
{
    /// <summary>Stores a new key's metadata.</summary>
    /// <exception cref="HsmKeyAlreadyExistsException">The kid is already stored (for any owner).</exception>
    /// <exception cref="ArgumentException">The kid is not lowercase hex of a compressed point, or the curve is unknown.</exception>
    Task AddAsync(HsmKeyInfo key, CancellationToken cancellationToken);

    /// <summary>The owner's keys, oldest first; <paramref name="curves"/> null or empty means every curve.</summary>
    Task<IReadOnlyList<HsmKeyInfo>> ListAsync(string ownerClientId, IReadOnlyCollection<string>? curves, CancellationToken cancellationToken);

    /// <summary>The key if it exists and belongs to <paramref name="ownerClientId"/>; null otherwise.</summary>
    Task<HsmKeyInfo?> FindAsync(string ownerClientId, string kid, CancellationToken cancellationToken);

    /// <summary>Deletes the owner's key metadata; false if absent or another owner's.</summary>
    Task<bool> DeleteAsync(string ownerClientId, string kid, CancellationToken cancellationToken);

    /// <summary>How many keys the owner has on <paramref name="curveName"/> (null: on every curve), for the per-client limit.</summary>
    Task<int> CountAsync(string ownerClientId, string? curveName, CancellationToken cancellationToken);
}
