namespace R2ps.Store;

/// <summary>
/// Request nonces seen per <c>client_id</c> (PROTOCOL.md 1.1): one durable cache shared by every worker, so a replay
/// is caught on any worker and after a restart.
/// </summary>
public interface INonceCache
{
    /// <summary>
    /// Records <paramref name="nonce"/> for <paramref name="clientId"/> until <paramref name="expiresAt"/>. False if it
    /// is already recorded and not yet expired (a replay). Atomic insert-if-absent on the primary key, so of two
    /// concurrent calls with the same nonce, on any workers, exactly one returns true.
    /// </summary>
    Task<bool> TryRecordAsync(string clientId, string nonce, DateTimeOffset expiresAt, CancellationToken cancellationToken);

    /// <summary>Deletes entries that expired at or before <paramref name="now"/>; returns how many.</summary>
    Task<int> PruneAsync(DateTimeOffset now, CancellationToken cancellationToken);
}
