using MassTransit;

namespace R2ps.Sessions;

/// <summary>
/// One sign session as the saga persists it. Sealed values are opaque bytes sealed by the HSM: nothing here is a clear
/// secret. The row exists from <c>BeginSignSessionLogin</c> until the session ends; then it is deleted.
/// </summary>
public class SignSessionState : SagaStateMachineInstance, ISagaVersion
{
    /// <summary>First 16 bytes of <see cref="PakeSessionId"/> as a Guid.</summary>
    public Guid CorrelationId { get; set; }

    /// <summary>The state machine's state name (<c>PendingLogin</c> or <c>Active</c>).</summary>
    public string CurrentState { get; set; } = string.Empty;

    /// <summary>Optimistic-concurrency token, incremented by every save.</summary>
    public int Version { get; set; }

    /// <summary>The wire id (64 lowercase hex).</summary>
    public string PakeSessionId { get; set; } = string.Empty;

    /// <summary>Binding: client id.</summary>
    public string ClientId { get; set; } = string.Empty;

    /// <summary>Binding: device key id.</summary>
    public string Kid { get; set; } = string.Empty;

    /// <summary>Binding: context.</summary>
    public string Context { get; set; } = string.Empty;

    /// <summary>The HSM-sealed OPAQUE login state while the login is pending; dropped at activation.</summary>
#pragma warning disable CA1819 // An EF Core-mapped blob column: a byte array is its natural shape.
    public byte[]? SealedLoginState { get; set; }

    /// <summary>The HSM-sealed session key once active.</summary>
    public byte[]? SealedSessionKey { get; set; }
#pragma warning restore CA1819

    /// <summary>The task the session was opened for, if any.</summary>
    public string? Task { get; set; }

    /// <summary>When the evaluate ran.</summary>
    public DateTimeOffset StartedAt { get; set; }

    /// <summary>End of the login window.</summary>
    public DateTimeOffset LoginExpiresAt { get; set; }

    /// <summary>When the session was activated.</summary>
    public DateTimeOffset? ActivatedAt { get; set; }

    /// <summary>TTL end of the active session.</summary>
    public DateTimeOffset? ExpiresAt { get; set; }

    /// <summary>
    /// When the sweeper must end the session unless something else does first: <see cref="LoginExpiresAt"/> while
    /// pending, <see cref="ExpiresAt"/> once active. One indexed column keeps the sweep a single range scan.
    /// </summary>
    public DateTimeOffset DueAt { get; set; }
}
