namespace R2ps.Service.Ports;

/// <summary>
/// One request and its outcome. Never holds secrets: no PINs, keys, plaintext or codes; identifiers as the envelope
/// carried them (unauthenticated if the request failed before its signature was verified).
/// </summary>
/// <param name="At">When the request was answered.</param>
/// <param name="WorkerId">The worker that answered.</param>
/// <param name="ClientId">The envelope's client_id, if it could be read.</param>
/// <param name="Kid">The envelope's kid, if it could be read.</param>
/// <param name="Context">The envelope's context, if it could be read.</param>
/// <param name="Type">The envelope's type, if it could be read.</param>
/// <param name="SessionRef">The first 16 characters of the session id involved, if any.</param>
/// <param name="Authenticated">Whether the envelope's signature verified.</param>
/// <param name="Status">The HTTP status answered.</param>
/// <param name="Outcome"><c>OK</c> or the error code.</param>
public sealed record AuditRecord(
    DateTimeOffset At,
    string WorkerId,
    string? ClientId,
    string? Kid,
    string? Context,
    string? Type,
    string? SessionRef,
    bool Authenticated,
    int Status,
    string Outcome);

/// <summary>The append-only audit log (store: audit log).</summary>
public interface IAuditLog
{
    Task AppendAsync(AuditRecord record, CancellationToken cancellationToken);
}
