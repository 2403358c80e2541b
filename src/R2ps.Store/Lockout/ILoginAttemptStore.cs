namespace R2ps.Store;

/// <summary>The state after a failed login was counted.</summary>
/// <param name="ConsecutiveFailures">Failures in a row, this one included.</param>
/// <param name="LockedUntil">The end of the lockout in force, or null if not locked.</param>
public sealed record LoginFailureResult(int ConsecutiveFailures, DateTimeOffset? LockedUntil)
{
    /// <summary>Whether the key is locked now.</summary>
    public bool IsLocked => LockedUntil is not null;
}

/// <summary>
/// Failed OPAQUE finalizes per <c>(client_id, kid)</c>, counted durably and exactly across every worker process
/// (PROTOCOL.md 1.5). After <see cref="StoreOptions.MaxConsecutiveLoginFailures"/> in a row the key is locked for
/// <see cref="StoreOptions.LockoutDuration"/>; a failure after a lockout ended starts a new count.
/// </summary>
public interface ILoginAttemptStore
{
    /// <summary>Counts one failure atomically (a single upsert inside a write transaction) and returns the new state.</summary>
    Task<LoginFailureResult> RecordFailureAsync(string clientId, string kid, CancellationToken cancellationToken);

    /// <summary>Forgets the failures after a successful login.</summary>
    Task ResetAsync(string clientId, string kid, CancellationToken cancellationToken);

    /// <summary>The end of a lockout in force now, or null if the key is not locked.</summary>
    Task<DateTimeOffset?> GetLockedUntilAsync(string clientId, string kid, CancellationToken cancellationToken);
}
