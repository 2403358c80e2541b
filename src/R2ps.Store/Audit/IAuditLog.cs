using System.Security.Cryptography;
using System.Text;
using R2ps.Crypto.Encoding;

namespace R2ps.Store;

/// <summary>How a request ended.</summary>
public enum AuditOutcome
{
    /// <summary>Answered with HTTP 200.</summary>
    Success,

    /// <summary>Answered with an error code.</summary>
    Failure,
}

/// <summary>
/// One audit record. Never put secrets here: no keys, PINs, codes, OPAQUE messages, plaintexts or full session ids
/// (use <see cref="SessionReference"/>).
/// </summary>
/// <param name="Time">When the request was handled.</param>
/// <param name="WorkerId">The worker that handled it.</param>
/// <param name="RequestType">The envelope <c>type</c> (or a pseudo type such as <c>admin_register</c>).</param>
/// <param name="ClientId">The envelope <c>client_id</c>, if known.</param>
/// <param name="Kid">The envelope <c>kid</c>, if known.</param>
/// <param name="Context">The envelope <c>context</c>, if known.</param>
/// <param name="Outcome">Success or failure.</param>
/// <param name="ErrorCode">The PROTOCOL.md error code on failure.</param>
/// <param name="SessionRef">A reference to the PAKE session (<see cref="SessionReference"/>), not the id itself.</param>
/// <param name="Detail">A short, secret-free note; cut to <see cref="StoreOptions.MaxAuditDetailLength"/>.</param>
public sealed record AuditEntry(
    DateTimeOffset Time,
    string WorkerId,
    string RequestType,
    string? ClientId,
    string? Kid,
    string? Context,
    AuditOutcome Outcome,
    string? ErrorCode = null,
    string? SessionRef = null,
    string? Detail = null)
{
    /// <summary>Sequence number assigned by the store (0 before appending).</summary>
    public long Id { get; init; }

    /// <summary>
    /// A stable, non-reversible reference to a <c>pake_session_id</c>: the first 16 hex digits of its SHA-256. Entries
    /// of one session correlate, yet the log never holds an id that could be presented again.
    /// </summary>
    public static string SessionReference(string pakeSessionId)
    {
        ArgumentNullException.ThrowIfNull(pakeSessionId);
        return Hex.Encode(SHA256.HashData(Encoding.UTF8.GetBytes(pakeSessionId)).AsSpan(0, 8));
    }
}

/// <summary>The append-only audit log.</summary>
public interface IAuditLog
{
    /// <summary>Appends an entry (its <see cref="AuditEntry.Id"/> is ignored).</summary>
    Task AppendAsync(AuditEntry entry, CancellationToken cancellationToken);

    /// <summary>The newest entries about <paramref name="clientId"/>, newest first, at most <paramref name="maxResults"/>
    /// (capped by <see cref="StoreOptions.MaxAuditQueryResults"/>).</summary>
    Task<IReadOnlyList<AuditEntry>> QueryByClientAsync(string clientId, int maxResults, CancellationToken cancellationToken);

    /// <summary>
    /// The newest entries about exactly <c>(client_id, kid)</c> at or after <paramref name="since"/> (null: any time),
    /// newest first, at most <paramref name="maxResults"/> (capped by <see cref="StoreOptions.MaxAuditQueryResults"/>):
    /// the trail a client reads about itself (PROTOCOL.md 4 <c>audit_log</c>).
    /// </summary>
    Task<IReadOnlyList<AuditEntry>> QueryTrailAsync(string clientId, string kid, DateTimeOffset? since, int maxResults, CancellationToken cancellationToken);
}
