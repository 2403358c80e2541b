namespace R2ps.Service.Ports;

/// <summary>One audit record as a client may see it about itself: nothing secret, no worker internals.</summary>
/// <param name="At">When the request was answered.</param>
/// <param name="Type">The request's type as the envelope carried it.</param>
/// <param name="Succeeded">Whether it was answered 200.</param>
/// <param name="ErrorCode">The error code of a refusal.</param>
public sealed record AuditTrailEvent(DateTimeOffset At, string Type, bool Succeeded, string? ErrorCode);

/// <summary>Reading the audit log for <c>audit_log</c> (store: <c>IAuditLog</c>).</summary>
public interface IAuditTrail
{
    /// <summary>The newest records about exactly <c>(client_id, kid)</c> at or after <paramref name="since"/>, newest first.</summary>
    Task<IReadOnlyList<AuditTrailEvent>> ReadAsync(string clientId, string kid, DateTimeOffset? since, int limit, CancellationToken cancellationToken);
}
