namespace R2ps.Sessions;

/// <summary>
/// The read model of sign sessions, read straight from the saga's table without tracking: any worker can serve any step
/// of any session. A snapshot is only a view: check it with <see cref="SignSessionSnapshot.IsActiveAt"/> (use path) or
/// <see cref="SignSessionSnapshot.IsLoginPendingAt"/> (finalize) at the current time — a session past its expiry is
/// never usable, even while its row still waits for the sweeper.
/// </summary>
public interface ISignSessionReader
{
    /// <summary>The session with this wire id, or null when there is none.</summary>
    /// <exception cref="ArgumentException"><paramref name="pakeSessionId"/> is not 64 lowercase hex characters.</exception>
    Task<SignSessionSnapshot?> FindAsync(string pakeSessionId, CancellationToken cancellationToken = default);

    /// <summary>The session with this correlation id, or null when there is none.</summary>
    Task<SignSessionSnapshot?> FindAsync(Guid sessionId, CancellationToken cancellationToken = default);

    /// <summary>Every session (pending or active, expired or not) bound to <c>(clientId, kid, context)</c>.</summary>
    Task<IReadOnlyList<SignSessionSnapshot>> FindByBindingAsync(string clientId, string kid, string context,
        CancellationToken cancellationToken = default);

    /// <summary>Every session of <c>(clientId, kid)</c>, in every context.</summary>
    Task<IReadOnlyList<SignSessionSnapshot>> FindByClientAsync(string clientId, string kid, CancellationToken cancellationToken = default);
}
