using R2ps.Contracts;

namespace R2ps.Sessions;

/// <summary>
/// Requests to the sign-session saga, each bounded by <see cref="SignSessionOptions.RequestTimeout"/>
/// (a timeout throws MassTransit's <c>RequestTimeoutException</c>; a saga fault throws <c>RequestFaultException</c>).
/// </summary>
public interface ISignSessionCommands
{
    /// <summary>Stores a pending login; returns once it is persisted.</summary>
    Task BeginLoginAsync(BeginSignSessionLogin command, CancellationToken cancellationToken = default);

    /// <summary>Activates a pending session, or says why not.</summary>
    Task<SignSessionActivation> ActivateAsync(ActivateSignSession command, CancellationToken cancellationToken = default);

    /// <summary>Ends one session; succeeds also when it was already gone.</summary>
    Task CloseAsync(Guid sessionId, string reason, CancellationToken cancellationToken = default);

    /// <summary>Ends every session of <c>(clientId, kid, context)</c>; returns how many there were.</summary>
    Task<int> CloseContextAsync(string clientId, string kid, string context, CancellationToken cancellationToken = default);

    /// <summary>Ends every session of <c>(clientId, kid)</c> in every context; returns how many there were.</summary>
    Task<int> EndClientSessionsAsync(string clientId, string kid, string reason, CancellationToken cancellationToken = default);
}

/// <summary>The saga's answer to an activation.</summary>
/// <param name="Activated">True when the session is now active.</param>
/// <param name="ExpiresAt">The TTL end when activated.</param>
/// <param name="Reason">One of <see cref="SignSessionNotActivatedReasons"/> when not activated.</param>
public sealed record SignSessionActivation(bool Activated, DateTimeOffset? ExpiresAt, string? Reason);
