namespace R2ps.Store;

/// <summary>The outcome of <see cref="ILoginAttemptStore.TryChargeAsync"/>.</summary>
/// <param name="Allowed">True if the attempt was charged and may go ahead; false if a lockout was already in force (or the
/// count would pass the limit), in which case nothing was charged.</param>
/// <param name="ConsecutiveFailures">Failures in a row after this call (this one included when allowed).</param>
/// <param name="LockedUntil">The end of the lockout in force after this call, or null. An allowed attempt can carry a
/// lockout: the attempt that reaches the limit goes ahead and locks every later one.</param>
public sealed record LoginChargeResult(bool Allowed, int ConsecutiveFailures, DateTimeOffset? LockedUntil);

/// <summary>
/// Charged OPAQUE evaluates per <c>(client_id, kid)</c>, counted durably and exactly across every worker process
/// (PROTOCOL.md 1.5). After <see cref="StoreOptions.MaxConsecutiveLoginFailures"/> in a row the key is locked for
/// <see cref="StoreOptions.LockoutDuration"/>; a failure after a lockout ended starts a new count.
/// </summary>
public interface ILoginAttemptStore
{
    /// <summary>
    /// Charges one login attempt unless the key is locked, in one atomic statement (check and increment cannot be
    /// split by a parallel request on any worker): refused when a lockout is in force or the increment would pass
    /// <see cref="StoreOptions.MaxConsecutiveLoginFailures"/>; otherwise counted, and the attempt that reaches the limit
    /// starts the lockout. N parallel calls on an unlocked key allow exactly the limit's worth.
    /// </summary>
    Task<LoginChargeResult> TryChargeAsync(string clientId, string kid, CancellationToken cancellationToken);

    /// <summary>
    /// A login evaluate's request nonce (<see cref="INonceCache.TryRecordAsync"/>) and its charge
    /// (<see cref="TryChargeAsync"/>) in one commit: null when the nonce is a live duplicate, and then nothing is charged.
    /// </summary>
    Task<LoginChargeResult?> TryRecordNonceAndChargeAsync(string clientId, string kid, string nonce, DateTimeOffset nonceExpiresAt,
        CancellationToken cancellationToken);

    /// <summary>Forgets the failures after a successful login.</summary>
    Task ResetAsync(string clientId, string kid, CancellationToken cancellationToken);

    /// <summary>A successful login's reset (<see cref="ResetAsync"/>) and its audit entry in one commit: both or neither.</summary>
    Task ResetWithAuditAsync(string clientId, string kid, AuditEntry entry, CancellationToken cancellationToken);

    /// <summary>The end of a lockout in force now, or null if the key is not locked.</summary>
    Task<DateTimeOffset?> GetLockedUntilAsync(string clientId, string kid, CancellationToken cancellationToken);
}
