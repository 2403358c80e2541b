namespace R2ps.Store.Data;

// Database rows. Times are Unix milliseconds: comparable and orderable in SQL on SQLite and PostgreSQL alike
// (EF Core 6 cannot compare DateTimeOffset columns on SQLite).

internal sealed class ClientRow
{
    public required string ClientId { get; set; }
    public required string Kid { get; set; }
    public required byte[] PublicKeySpki { get; set; }

    /// <summary>Allowed contexts, space-separated (context names contain no white space).</summary>
    public required string Contexts { get; set; }

    public long CreatedMs { get; set; }
    public long? RevokedMs { get; set; }
}

internal sealed class RegistrationCodeRow
{
    public required string ClientId { get; set; }
    public required string Kid { get; set; }

    /// <summary>SHA-256 of the code; the code itself is never stored.</summary>
    public required byte[] CodeHash { get; set; }

    public long IssuedMs { get; set; }
    public long ExpiresMs { get; set; }
}

internal sealed class OpaqueRecordRow
{
    public required string ClientId { get; set; }
    public required string Kid { get; set; }
    public required byte[] Record { get; set; }
    public long UpdatedMs { get; set; }
}

internal sealed class LoginAttemptRow
{
    public required string ClientId { get; set; }
    public required string Kid { get; set; }
    public int Failures { get; set; }
    public long? LockedUntilMs { get; set; }
    public long LastFailureMs { get; set; }
}

internal sealed class HsmKeyRow
{
    public required string Kid { get; set; }
    public required string OwnerClientId { get; set; }
    public required string CurveName { get; set; }
    public long CreatedMs { get; set; }
}

internal sealed class NonceRow
{
    public required string ClientId { get; set; }
    public required string Nonce { get; set; }
    public long ExpiresMs { get; set; }
}

internal sealed class AuditRow
{
    public long Id { get; set; }
    public long TimeMs { get; set; }
    public required string WorkerId { get; set; }
    public required string RequestType { get; set; }
    public string? ClientId { get; set; }
    public string? Kid { get; set; }
    public string? Context { get; set; }
    public required string Outcome { get; set; }
    public string? ErrorCode { get; set; }
    public string? SessionRef { get; set; }
    public string? Detail { get; set; }
}

/// <summary>
/// One vault secret of <c>(client_id, kid)</c>: its latest version, sealed by the HSM. A deleted secret keeps its row
/// (sealed value null) so that its version counter survives and a re-created id continues above it.
/// </summary>
internal sealed class SecretRow
{
    public required string ClientId { get; set; }
    public required string Kid { get; set; }
    public required string SecretId { get; set; }
    public long Version { get; set; }

    /// <summary>The HSM-sealed ciphertext; null once deleted.</summary>
    public byte[]? SealedCiphertext { get; set; }

    public int Size { get; set; }
    public long StoredMs { get; set; }
    public long? DeletedMs { get; set; }
}
