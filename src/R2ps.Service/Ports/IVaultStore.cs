namespace R2ps.Service.Ports;

/// <summary>A stored secret version: the wallet's ciphertext sealed once more by the HSM.</summary>
/// <param name="SecretId">The id, unique per <c>(client_id, kid)</c>.</param>
/// <param name="Version">The stored version (1, 2, …).</param>
/// <param name="SealedCiphertext">The HSM-sealed ciphertext (AAD binds client_id, kid, secret_id, version).</param>
/// <param name="Size">The length of the wallet's ciphertext in bytes (before sealing).</param>
/// <param name="StoredAt">When the version was stored.</param>
public sealed record StoredSecret(string SecretId, long Version, byte[] SealedCiphertext, int Size, DateTimeOffset StoredAt);

/// <summary>A listed secret (no ciphertext).</summary>
public sealed record SecretSummary(string SecretId, long Version, int Size, DateTimeOffset StoredAt);

/// <summary>A version to store for <c>(client_id, kid)</c>.</summary>
public sealed record SecretWrite(string ClientId, string Kid, string SecretId, long Version, byte[] SealedCiphertext, int Size, DateTimeOffset StoredAt);

/// <summary>Per-client limits the store enforces atomically with the write.</summary>
/// <param name="MaxSecrets">Live (not deleted) ids a client may hold.</param>
/// <param name="MaxSecretIds">Ids a client may have used, deleted ones included (their version counters are kept).</param>
public sealed record SecretLimits(int MaxSecrets, int MaxSecretIds);

/// <summary>How <see cref="IVaultStore.TryStoreAsync"/> ended.</summary>
public enum SecretWriteStatus
{
    /// <summary>The version was stored (durably, before the call returned).</summary>
    Stored,

    /// <summary>The version was not exactly the stored counter + 1 (or another writer won the race); nothing written.</summary>
    VersionConflict,

    /// <summary>A new id would pass a per-client limit; nothing written.</summary>
    LimitReached,
}

/// <summary>The verdict of a store, with the version counter in force after the call.</summary>
public sealed record SecretWriteResult(SecretWriteStatus Status, long CurrentVersion);

/// <summary>
/// The secret vault's durable store (store: <c>ISecretStore</c>), scoped to <c>(client_id, kid)</c> on every call:
/// another client's id is indistinguishable from an absent one.
/// </summary>
public interface IVaultStore
{
    /// <summary>
    /// Stores <see cref="SecretWrite.Version"/> only if it is exactly the stored counter + 1 (1 for an id never used),
    /// as one atomic compare-and-set shared by every worker: of two concurrent writes of the same version exactly one
    /// wins. A new (or deleted) id is only stored within <paramref name="limits"/>.
    /// </summary>
    Task<SecretWriteResult> TryStoreAsync(SecretWrite write, SecretLimits limits, CancellationToken cancellationToken);

    /// <summary>The live secret, or null when unknown or deleted.</summary>
    Task<StoredSecret?> FindAsync(string clientId, string kid, string secretId, CancellationToken cancellationToken);

    /// <summary>The live secrets, by id.</summary>
    Task<IReadOnlyList<SecretSummary>> ListAsync(string clientId, string kid, CancellationToken cancellationToken);

    /// <summary>Deletes the live secret but keeps its version counter; false when unknown or already deleted.</summary>
    Task<bool> DeleteAsync(string clientId, string kid, string secretId, CancellationToken cancellationToken);
}
