namespace R2ps.Store;

/// <summary>
/// A request's nonce and its audit entry in one commit. For a request whose handler only reads (signs, derives, lists),
/// the service records the nonce after the handler ran instead of before it: the answer is released only if the nonce
/// was new, so a replay still gets nothing but a refusal, and the request pays one commit instead of two.
/// </summary>
public interface IRequestLedger
{
    /// <summary>
    /// Records <paramref name="nonce"/> exactly as <see cref="INonceCache.TryRecordAsync"/> does and, in the same
    /// transaction, appends <paramref name="whenNew"/> if it was new or <paramref name="whenReplayed"/> if it is a live
    /// duplicate. True when it was new. When this throws, neither was written.
    /// </summary>
    Task<bool> RecordNonceAndAuditAsync(string clientId, string nonce, DateTimeOffset expiresAt, AuditEntry whenNew, AuditEntry whenReplayed,
        CancellationToken cancellationToken);
}
