namespace R2ps.Store;

/// <summary>A vault secret's latest live version (the value is sealed by the HSM; the store never sees more).</summary>
/// <param name="SecretId">1–64 characters of [A-Za-z0-9._-].</param>
/// <param name="Version">The stored version.</param>
/// <param name="SealedCiphertext">The HSM-sealed ciphertext.</param>
/// <param name="Size">The wallet ciphertext's length in bytes.</param>
/// <param name="StoredAt">When this version was stored.</param>
public sealed record SecretVersion(string SecretId, long Version, byte[] SealedCiphertext, int Size, DateTimeOffset StoredAt);

/// <summary>A listed secret, without its value.</summary>
public sealed record SecretListing(string SecretId, long Version, int Size, DateTimeOffset StoredAt);

/// <summary>A version to write for <c>(client_id, kid)</c>.</summary>
public sealed record SecretVersionWrite(string ClientId, string Kid, string SecretId, long Version, byte[] SealedCiphertext, int Size, DateTimeOffset StoredAt);

/// <summary>How <see cref="ISecretStore.TryStoreAsync"/> ended.</summary>
public enum SecretStoreOutcome
{
    /// <summary>Committed.</summary>
    Stored,

    /// <summary>The version was not the stored counter + 1, or a concurrent writer won; nothing written.</summary>
    VersionConflict,

    /// <summary>A new or re-created id would pass a limit; nothing written.</summary>
    LimitReached,
}

/// <summary>The outcome and the version counter in force afterwards.</summary>
public sealed record SecretStoreResult(SecretStoreOutcome Outcome, long CurrentVersion);

/// <summary>
/// The secret vault's rows (PROTOCOL.md 4), scoped to <c>(client_id, kid)</c> on every call. Versions only go up: a
/// write must name exactly the stored counter + 1, checked and written atomically (two workers storing the same version
/// at once: exactly one wins), and deletion keeps the counter.
/// </summary>
public interface ISecretStore
{
    /// <summary>
    /// Writes <see cref="SecretVersionWrite.Version"/> iff it is the stored counter + 1 (1 for a never-used id). An id
    /// that is new, or deleted, becomes live only while fewer than <paramref name="maxLiveSecrets"/> are live, and a new
    /// id only while fewer than <paramref name="maxSecretIds"/> ids (deleted ones included) exist.
    /// </summary>
    Task<SecretStoreResult> TryStoreAsync(SecretVersionWrite write, int maxLiveSecrets, int maxSecretIds, CancellationToken cancellationToken);

    /// <summary>The live version, or null when unknown or deleted.</summary>
    Task<SecretVersion?> FindAsync(string clientId, string kid, string secretId, CancellationToken cancellationToken);

    /// <summary>The live secrets, ordered by id.</summary>
    Task<IReadOnlyList<SecretListing>> ListAsync(string clientId, string kid, CancellationToken cancellationToken);

    /// <summary>Deletes the value, keeping the counter; false when unknown or already deleted.</summary>
    Task<bool> DeleteAsync(string clientId, string kid, string secretId, CancellationToken cancellationToken);

    /// <summary>How many live secrets <c>(client_id, kid)</c> holds.</summary>
    Task<int> CountAsync(string clientId, string kid, CancellationToken cancellationToken);
}
