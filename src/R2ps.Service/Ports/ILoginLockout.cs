namespace R2ps.Service.Ports;

/// <summary>The verdict of <see cref="ILoginLockout.TryChargeAsync"/>.</summary>
/// <param name="Allowed">True if the attempt was charged and may go ahead; false if the key is locked (nothing charged).</param>
/// <param name="ConsecutiveFailures">Attempts in a row not yet followed by a success, after this call.</param>
/// <param name="LockedUntil">The end of the lockout in force after this call, or null.</param>
public sealed record LoginCharge(bool Allowed, int ConsecutiveFailures, DateTimeOffset? LockedUntil);

/// <summary>
/// Durable login-attempt counting per <c>(client_id, kid)</c>, shared by every worker (store: <c>ILoginAttemptStore</c>).
/// The store's options are the single source of the threshold and the lockout duration.
/// </summary>
public interface ILoginLockout
{
    /// <summary>
    /// Charges one PIN attempt (an OPRF evaluation) unless the key is locked, atomically: the lock check and the
    /// increment are one operation in the store, so parallel requests on any workers get exactly the threshold's worth
    /// of attempts. The attempt that reaches the threshold is allowed and starts the lockout; a success resets.
    /// </summary>
    Task<LoginCharge> TryChargeAsync(string clientId, string kid, CancellationToken cancellationToken);

    /// <summary>
    /// A login evaluate's request nonce (as <see cref="INonceCache.TryAddAsync"/>) and its charge (as
    /// <see cref="TryChargeAsync"/>) in one commit: null when the nonce was already used, and then nothing is charged.
    /// </summary>
    Task<LoginCharge?> TryAddNonceAndChargeAsync(string clientId, string kid, string nonce, DateTimeOffset keepNonceUntil,
        CancellationToken cancellationToken);

    /// <summary>Forgets the failures after a successful login or a new PIN.</summary>
    Task ResetAsync(string clientId, string kid, CancellationToken cancellationToken);

    /// <summary>A successful login's reset (as <see cref="ResetAsync"/>) and its request's audit record in one commit: both or neither.</summary>
    Task ResetWithAuditAsync(string clientId, string kid, AuditRecord record, CancellationToken cancellationToken);

    /// <summary>The end of a lockout in force now, or null. Informational (ending sessions); never a gate.</summary>
    Task<DateTimeOffset?> GetLockedUntilAsync(string clientId, string kid, CancellationToken cancellationToken);
}
