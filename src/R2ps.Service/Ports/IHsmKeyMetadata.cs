namespace R2ps.Service.Ports;

/// <summary>An HSM client key as the store knows it.</summary>
/// <param name="Kid">Lowercase hex of the SEC1 compressed public key.</param>
/// <param name="OwnerClientId">The client that created it.</param>
/// <param name="CurveName"><c>P-256</c>, <c>P-384</c> or <c>P-521</c>.</param>
/// <param name="CreatedAt">Creation time.</param>
public sealed record ClientKeyMetadata(string Kid, string OwnerClientId, string CurveName, DateTimeOffset CreatedAt);

/// <summary>HSM key metadata, always scoped to an owner (store: <c>IHsmKeyStore</c>).</summary>
public interface IHsmKeyMetadata
{
    Task AddAsync(ClientKeyMetadata key, CancellationToken cancellationToken);

    /// <summary>The owner's keys, oldest first; null or empty <paramref name="curveNames"/> = every curve.</summary>
    Task<IReadOnlyList<ClientKeyMetadata>> ListAsync(string ownerClientId, IReadOnlyCollection<string>? curveNames, CancellationToken cancellationToken);

    /// <summary>The key if it exists and belongs to the owner; null otherwise (another owner's key looks absent).</summary>
    Task<ClientKeyMetadata?> FindAsync(string ownerClientId, string kid, CancellationToken cancellationToken);

    Task<bool> DeleteAsync(string ownerClientId, string kid, CancellationToken cancellationToken);

    Task<int> CountAsync(string ownerClientId, string curveName, CancellationToken cancellationToken);
}
