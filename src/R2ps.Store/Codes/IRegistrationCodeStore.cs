namespace R2ps.Store;

/// <summary>A freshly issued one-time code. <see cref="Code"/> is shown once and never stored.</summary>
/// <param name="Code">Base64 (standard, padded) of the random code bytes.</param>
/// <param name="ExpiresAt">When the code stops being accepted.</param>
public sealed record IssuedRegistrationCode(string Code, DateTimeOffset ExpiresAt);

/// <summary>One-time registration codes (PROTOCOL.md 1.5, 2.4): single-use, expiring, stored only as SHA-256.</summary>
public interface IRegistrationCodeStore
{
    /// <summary>
    /// Issues a new code for an active registration, replacing any earlier one. Returns null if
    /// <c>(client_id, kid)</c> is not registered or is revoked.
    /// </summary>
    Task<IssuedRegistrationCode?> IssueAsync(string clientId, string kid, CancellationToken cancellationToken);

    /// <summary>
    /// Stores a code made elsewhere (the BFF: the code itself never crosses the broker) by its SHA-256, replacing any
    /// earlier one, and returns its expiry. Null if <c>(client_id, kid)</c> is not registered or is revoked.
    /// </summary>
    Task<DateTimeOffset?> IssueHashedAsync(string clientId, string kid, ReadOnlyMemory<byte> codeHash, CancellationToken cancellationToken);

    /// <summary>
    /// Whether an unexpired code is waiting for <c>(client_id, kid)</c>. Does not consume it and reveals nothing about
    /// the code: it gates the registration evaluate, which must not run without a registration in progress.
    /// </summary>
    Task<bool> IsPendingAsync(string clientId, string kid, CancellationToken cancellationToken);

    /// <summary>
    /// Checks a presented code. Any attempt consumes the stored code (it is deleted before the comparison), so a
    /// wrong guess leaves nothing to guess against. False if there is no code, it expired, or it does not match.
    /// </summary>
    Task<bool> ConsumeAsync(string clientId, string kid, ReadOnlyMemory<byte> presentedCode, CancellationToken cancellationToken);

    /// <summary>As the byte overload, with the code as presented in the request: base64. Malformed base64 still consumes.</summary>
    Task<bool> ConsumeAsync(string clientId, string kid, string presentedCodeBase64, CancellationToken cancellationToken);
}
