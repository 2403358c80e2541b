using System.Text.Json.Serialization;

namespace R2ps.Protocol.Payloads;

// The secret vault of PROTOCOL.md 4. Binary values are base64 (with padding); times are epoch seconds except the audit
// events' (epoch milliseconds).

/// <summary><c>secret_store</c> request: <c>ciphertext</c> = IV ‖ ct ‖ tag of the wallet's own AES-256-GCM layer.</summary>
public sealed record SecretStoreRequest(
    [property: JsonPropertyName("secret_id")] string SecretId,
    [property: JsonPropertyName("version")] long Version,
    [property: JsonPropertyName("ciphertext")] string Ciphertext);

/// <summary><c>secret_store</c> response: the server's receipt of the stored version.</summary>
public sealed record SecretStoreResponse(
    [property: JsonPropertyName("secret_id")] string SecretId,
    [property: JsonPropertyName("version")] long Version,
    [property: JsonPropertyName("stored_at")] long StoredAt);

/// <summary><c>secret_retrieve</c> and <c>secret_delete</c> request.</summary>
public sealed record SecretIdRequest([property: JsonPropertyName("secret_id")] string SecretId);

/// <summary><c>secret_retrieve</c> response.</summary>
public sealed record SecretRetrieveResponse(
    [property: JsonPropertyName("secret_id")] string SecretId,
    [property: JsonPropertyName("version")] long Version,
    [property: JsonPropertyName("ciphertext")] string Ciphertext,
    [property: JsonPropertyName("stored_at")] long StoredAt);

/// <summary>One entry of <c>secret_list</c>: <c>size</c> is the ciphertext's length in bytes.</summary>
public sealed record SecretInfo(
    [property: JsonPropertyName("secret_id")] string SecretId,
    [property: JsonPropertyName("version")] long Version,
    [property: JsonPropertyName("size")] int Size,
    [property: JsonPropertyName("stored_at")] long StoredAt);

/// <summary><c>secret_list</c> response.</summary>
public sealed record SecretListResponse([property: JsonPropertyName("secrets")] IReadOnlyList<SecretInfo> Secrets);

/// <summary><c>audit_log</c> request: events at or after <c>since</c> (epoch seconds), at most <c>limit</c> (1–100, default 50).</summary>
public sealed record AuditLogRequest(
    [property: JsonPropertyName("since")] long? Since = null,
    [property: JsonPropertyName("limit")] int? Limit = null);

/// <summary>One audit event: <c>outcome</c> is <c>OK</c> or <c>ERROR</c>, with the error code of a refusal.</summary>
public sealed record AuditEvent(
    [property: JsonPropertyName("time")] long Time,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("outcome")] string Outcome,
    [property: JsonPropertyName("error_code")] string? ErrorCode = null);

/// <summary><c>audit_log</c> response, newest first.</summary>
public sealed record AuditLogResponse([property: JsonPropertyName("events")] IReadOnlyList<AuditEvent> Events);
