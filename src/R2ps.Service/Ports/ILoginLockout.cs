namespace R2ps.Service.Ports;

/// <summary>Durable failed-login counting per <c>(client_id, kid)</c>, shared by every worker (store: <c>ILoginAttemptStore</c>).</summary>
public interface ILoginLockout
{
    /// <summary>
    /// Counts one login attempt as failed atomically (the core charges it at evaluate and resets on success) and returns the end of the lockout it caused or that is in force, or null.
    /// The store applies its configured threshold and duration (<see cref="R2psServiceOptions.MaxLoginFailures"/> and
    /// <see cref="R2psServiceOptions.LockoutDuration"/> must agree with it).
    /// </summary>
    Task<DateTimeOffset?> RecordFailureAsync(string clientId, string kid, CancellationToken cancellationToken);

    /// <summary>Forgets the failures after a successful login or a new PIN.</summary>
    Task ResetAsync(string clientId, string kid, CancellationToken cancellationToken);

    /// <summary>The end of a lockout in force now, or null.</summary>
    Task<DateTimeOffset?> GetLockedUntilAsync(string clientId, string kid, CancellationToken cancellationToken);
}
