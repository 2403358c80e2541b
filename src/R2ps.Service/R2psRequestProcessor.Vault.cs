using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using R2ps.Crypto.Encoding;
using R2ps.Protocol;
using R2ps.Protocol.Payloads;
using R2ps.Service.Ports;

namespace R2ps.Service;

/// <summary>
/// The secret vault of PROTOCOL.md 4. Secrets are scoped to <c>(client_id, kid)</c>: another client's id is simply
/// absent, so unknown and foreign ids get the same answer. The wallet's ciphertext is sealed once more with the HSM
/// sealing key, its AAD binding client_id, kid, secret_id and version, so a database copy alone opens nothing and a row
/// moved to another client, id or version does not open either.
/// </summary>
public sealed partial class R2psRequestProcessor
{
    private const string UnknownSecret = "The secret is unknown.";

    private async Task<byte[]> SecretStoreAsync(ServiceCall call, byte[] plaintext, CancellationToken cancellationToken)
    {
        var request = R2psJson.Deserialize<SecretStoreRequest>(plaintext, "secret_store request");
        var secretId = SecretId(request.SecretId);
        var ciphertext = DecodeBinary(request.Ciphertext, "ciphertext");
        if (ciphertext.Length == 0 || ciphertext.Length > _options.MaxSecretBytes)
            throw new R2psException(ErrorCode.IllegalRequestData, $"ciphertext must be 1–{_options.MaxSecretBytes} bytes.");

        // Sealed before the compare-and-set: the AAD names the version, and the write must be one atomic statement.
        // A version that loses the CAS only cost an AES-GCM operation in the HSM.
        byte[] sealedCiphertext;
        using (R2psServiceActivity.StartHsm("seal"))
            sealedCiphertext = await _ports.Sealer.SealAsync(ciphertext, Sealing.VaultSecretAad(call.ClientId, call.Kid, secretId, request.Version), cancellationToken).ConfigureAwait(false);

        var storedAt = _time.GetUtcNow();
        var result = await _ports.Vault.TryStoreAsync(
            new SecretWrite(call.ClientId, call.Kid, secretId, request.Version, sealedCiphertext, ciphertext.Length, storedAt),
            new SecretLimits(_options.MaxSecretsPerClient, _options.MaxSecretIdsPerClient), cancellationToken).ConfigureAwait(false);
        return result.Status switch
        {
            SecretWriteStatus.Stored => Json(new SecretStoreResponse(secretId, request.Version, storedAt.ToUnixTimeSeconds())),
            // The current version is the caller's own information (ids are per client): it lets a wallet resync.
            SecretWriteStatus.VersionConflict => throw new R2psException(ErrorCode.IllegalState, string.Create(CultureInfo.InvariantCulture,
                $"The stored version is {result.CurrentVersion}; version must be {result.CurrentVersion + 1}.")),
            SecretWriteStatus.LimitReached => throw new R2psException(ErrorCode.Unauthorized, string.Create(CultureInfo.InvariantCulture,
                $"The limit of {_options.MaxSecretsPerClient} stored secrets (or {_options.MaxSecretIdsPerClient} ids ever used) is reached.")),
            _ => throw new InvalidOperationException("Unknown secret write status."),
        };
    }

    private async Task<byte[]> SecretRetrieveAsync(ServiceCall call, byte[] plaintext, CancellationToken cancellationToken)
    {
        var request = R2psJson.Deserialize<SecretIdRequest>(plaintext, "secret_retrieve request");
        var secretId = SecretId(request.SecretId);
        var stored = await _ports.Vault.FindAsync(call.ClientId, call.Kid, secretId, cancellationToken).ConfigureAwait(false)
            ?? throw new R2psException(ErrorCode.AccessDenied, UnknownSecret);
        byte[] ciphertext;
        // A row that does not open was altered or moved in the database: a CryptographicException, so SERVER_ERROR.
        using (R2psServiceActivity.StartHsm("unseal"))
            ciphertext = await _ports.Sealer.OpenAsync(stored.SealedCiphertext, Sealing.VaultSecretAad(call.ClientId, call.Kid, secretId, stored.Version), cancellationToken).ConfigureAwait(false);
        try
        {
            return Json(new SecretRetrieveResponse(secretId, stored.Version, Base64Std.Encode(ciphertext), stored.StoredAt.ToUnixTimeSeconds()));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(ciphertext);
        }
    }

    private async Task<byte[]> SecretListAsync(ServiceCall call, byte[] plaintext, CancellationToken cancellationToken)
    {
        // {} is the request; an empty body is read the same way, as hsm_list_keys does.
        if (plaintext.Length != 0) R2psJson.Deserialize<EmptyRequest>(plaintext, "secret_list request");
        var secrets = await _ports.Vault.ListAsync(call.ClientId, call.Kid, cancellationToken).ConfigureAwait(false);
        return Json(new SecretListResponse([.. secrets.Select(s => new SecretInfo(s.SecretId, s.Version, s.Size, s.StoredAt.ToUnixTimeSeconds()))]));
    }

    private async Task<byte[]> SecretDeleteAsync(ServiceCall call, byte[] plaintext, CancellationToken cancellationToken)
    {
        var request = R2psJson.Deserialize<SecretIdRequest>(plaintext, "secret_delete request");
        var secretId = SecretId(request.SecretId);
        if (!await _ports.Vault.DeleteAsync(call.ClientId, call.Kid, secretId, cancellationToken).ConfigureAwait(false))
            throw new R2psException(ErrorCode.AccessDenied, UnknownSecret);
        return Encoding.ASCII.GetBytes(ProtocolConstants.Ok);
    }

    private async Task<byte[]> AuditLogAsync(ServiceCall call, byte[] plaintext, CancellationToken cancellationToken)
    {
        var request = plaintext.Length == 0 ? new AuditLogRequest() : R2psJson.Deserialize<AuditLogRequest>(plaintext, "audit_log request");
        var limit = request.Limit ?? VaultRules.DefaultAuditLimit;
        if (limit is < VaultRules.MinAuditLimit or > VaultRules.MaxAuditLimit)
            throw new R2psException(ErrorCode.IllegalRequestData, $"limit must be {VaultRules.MinAuditLimit}–{VaultRules.MaxAuditLimit}.");
        DateTimeOffset? since = null;
        if (request.Since is { } seconds)
        {
            if (seconds < 0 || seconds > DateTimeOffset.MaxValue.ToUnixTimeSeconds())
                throw new R2psException(ErrorCode.IllegalRequestData, "since must be epoch seconds.");
            since = DateTimeOffset.FromUnixTimeSeconds(seconds);
        }
        // Only exactly this (client_id, kid): the signature verified, so the caller is its owner.
        var events = await _ports.AuditTrail.ReadAsync(call.ClientId, call.Kid, since, limit, cancellationToken).ConfigureAwait(false);
        return Json(new AuditLogResponse([.. events.Select(e => new AuditEvent(
            e.At.ToUnixTimeMilliseconds(), e.Type, e.Succeeded ? VaultRules.AuditOk : VaultRules.AuditError, e.Succeeded ? null : e.ErrorCode))]));
    }

    private static string SecretId(string? value) => VaultRules.IsSecretId(value)
        ? value!
        : throw new R2psException(ErrorCode.IllegalRequestData, $"secret_id must be 1–{VaultRules.MaxSecretIdLength} characters of A-Z a-z 0-9 . _ -.");

    /// <summary>A request without members (<c>{}</c>); unknown members are ignored as everywhere on the wire.</summary>
    private sealed record EmptyRequest;
}
