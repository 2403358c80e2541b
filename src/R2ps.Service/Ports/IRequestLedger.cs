namespace R2ps.Service.Ports;

/// <summary>
/// A request's nonce and its audit record in one commit (store: request ledger). The core uses it for the types whose
/// handler only reads: their nonce is recorded after the handler ran, together with the audit record, and the answer
/// is released only when the nonce was new.
/// </summary>
public interface IRequestLedger
{
    /// <summary>
    /// Records <paramref name="nonce"/> as <see cref="INonceCache.TryAddAsync"/> does and, atomically with it,
    /// <paramref name="whenNew"/> if it was new or <paramref name="whenReplayed"/> if it was already there; true if new.
    /// When this throws, neither was written.
    /// </summary>
    Task<bool> TryAddNonceWithAuditAsync(string clientId, string nonce, DateTimeOffset keepUntil, AuditRecord whenNew, AuditRecord whenReplayed,
        CancellationToken cancellationToken);
}
