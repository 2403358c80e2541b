using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using R2ps.Crypto.Keys;
using R2ps.Service.Ports;
using R2ps.Store;
using ServiceAuditLog = R2ps.Service.Ports.IAuditLog;
using ServiceNonceCache = R2ps.Service.Ports.INonceCache;
using StoreAuditLog = R2ps.Store.IAuditLog;
using StoreNonceCache = R2ps.Store.INonceCache;
using StoreRequestLedger = R2ps.Store.IRequestLedger;

namespace R2ps.Worker.Adapters;

// The service core's ports over the durable store. Each adapter only translates types, and times the call
// (WorkerTelemetry: r2ps.store.duration by operation); the store does the work.

/// <summary>
/// <see cref="IClientDirectory"/> over <see cref="IClientRegistry"/>. The registration is read on every request (a revoked
/// key is refused by the very next one, on every worker); what is kept is the decoded key, by its SPKI bytes: decoding
/// and validating the point, and the verifier the key keeps (<see cref="EcPublicKey"/>), are then paid once per device,
/// not per request. Keyed by content, an entry can never answer for another key, so it needs no invalidation.
/// </summary>
internal sealed class StoreClientDirectory(IClientRegistry registry, IOptions<WorkerOptions> options) : IClientDirectory
{
    private readonly ConcurrentDictionary<string, EcPublicKey> _keys = new(StringComparer.Ordinal);
    private readonly int _capacity = options.Value.DeviceKeyCacheCapacity;

    public async Task<RegisteredDevice?> FindAsync(string clientId, string kid, CancellationToken cancellationToken)
    {
        var client = await WorkerTelemetry.TimeStoreAsync("clients.find", () => registry.FindAsync(clientId, kid, cancellationToken)).ConfigureAwait(false);
        if (client is null)
            return null;

        return new RegisteredDevice(client.ClientId, client.Kid, Decode(client.PublicKeySpki.Span), client.Contexts);
    }

    private EcPublicKey Decode(ReadOnlySpan<byte> spki)
    {
        // The store holds what the admin path validated; a key that no longer decodes is a store fault, not a client's.
        if (_capacity == 0) return EcPublicKey.FromSpki(spki);
        var id = Convert.ToBase64String(spki);
        if (_keys.TryGetValue(id, out var key)) return key;
        key = EcPublicKey.FromSpki(spki);
        // Bounded the simplest way: a full cache starts over.
        if (_keys.Count >= _capacity) _keys.Clear();
        return _keys.GetOrAdd(id, key);
    }
}

/// <summary><see cref="IRegistrationCodes"/> over <see cref="IRegistrationCodeStore"/>.</summary>
internal sealed class StoreRegistrationCodes(IRegistrationCodeStore codes) : IRegistrationCodes
{
    public Task<bool> ConsumeAsync(string clientId, string kid, string presentedCodeBase64, CancellationToken cancellationToken) =>
        WorkerTelemetry.TimeStoreAsync("codes.consume", () => codes.ConsumeAsync(clientId, kid, presentedCodeBase64, cancellationToken));

    public Task<bool> IsPendingAsync(string clientId, string kid, CancellationToken cancellationToken) =>
        WorkerTelemetry.TimeStoreAsync("codes.pending", () => codes.IsPendingAsync(clientId, kid, cancellationToken));
}

/// <summary><see cref="IOpaqueRecords"/> over <see cref="IOpaqueRecordStore"/>.</summary>
internal sealed class StoreOpaqueRecords(IOpaqueRecordStore records) : IOpaqueRecords
{
    public Task<byte[]?> GetAsync(string clientId, string kid, CancellationToken cancellationToken) =>
        WorkerTelemetry.TimeStoreAsync("opaque_records.get", () => records.GetAsync(clientId, kid, cancellationToken));

    public Task PutAsync(string clientId, string kid, ReadOnlyMemory<byte> record, CancellationToken cancellationToken) =>
        WorkerTelemetry.TimeStoreAsync("opaque_records.put", () => records.PutAsync(clientId, kid, record, cancellationToken));
}

/// <summary><see cref="ILoginLockout"/> over <see cref="ILoginAttemptStore"/> (the store applies threshold and duration).</summary>
internal sealed class StoreLoginLockout(ILoginAttemptStore attempts) : ILoginLockout
{
    public async Task<LoginCharge> TryChargeAsync(string clientId, string kid, CancellationToken cancellationToken) =>
        ToPort(await WorkerTelemetry.TimeStoreAsync("lockout.charge", () => attempts.TryChargeAsync(clientId, kid, cancellationToken)).ConfigureAwait(false));

    public async Task<LoginCharge?> TryAddNonceAndChargeAsync(string clientId, string kid, string nonce, DateTimeOffset keepNonceUntil,
        CancellationToken cancellationToken) =>
        await WorkerTelemetry.TimeStoreAsync("lockout.nonce_and_charge",
            () => attempts.TryRecordNonceAndChargeAsync(clientId, kid, nonce, keepNonceUntil, cancellationToken)).ConfigureAwait(false) is { } charge
            ? ToPort(charge)
            : null;

    public Task ResetAsync(string clientId, string kid, CancellationToken cancellationToken) =>
        WorkerTelemetry.TimeStoreAsync("lockout.reset", () => attempts.ResetAsync(clientId, kid, cancellationToken));

    public Task ResetWithAuditAsync(string clientId, string kid, AuditRecord record, CancellationToken cancellationToken) =>
        WorkerTelemetry.TimeStoreAsync("lockout.reset_and_audit", () => attempts.ResetWithAuditAsync(clientId, kid, StoreAudit.ToEntry(record), cancellationToken));

    public Task<DateTimeOffset?> GetLockedUntilAsync(string clientId, string kid, CancellationToken cancellationToken) =>
        WorkerTelemetry.TimeStoreAsync("lockout.get", () => attempts.GetLockedUntilAsync(clientId, kid, cancellationToken));

    static LoginCharge ToPort(LoginChargeResult charge) => new(charge.Allowed, charge.ConsecutiveFailures, charge.LockedUntil);
}

/// <summary>The service's nonce cache over the store's (atomic insert-if-absent shared by every worker).</summary>
internal sealed class StoreNonces(StoreNonceCache nonces) : ServiceNonceCache
{
    public Task<bool> TryAddAsync(string clientId, string nonce, DateTimeOffset keepUntil, CancellationToken cancellationToken) =>
        WorkerTelemetry.TimeStoreAsync("nonces.add", () => nonces.TryRecordAsync(clientId, nonce, keepUntil, cancellationToken));
}

/// <summary>The service's audit port over the store's append-only log.</summary>
internal sealed class StoreAudit(StoreAuditLog log) : ServiceAuditLog
{
    public Task AppendAsync(AuditRecord record, CancellationToken cancellationToken) =>
        WorkerTelemetry.TimeStoreAsync("audit.append", () => log.AppendAsync(ToEntry(record), cancellationToken));

    internal static AuditEntry ToEntry(AuditRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var success = record.Status == 200;
        var detail = record.Authenticated ? $"status {record.Status}" : $"status {record.Status}, unauthenticated";
        return new AuditEntry(
            record.At,
            record.WorkerId,
            record.Type ?? "unknown",
            record.ClientId,
            record.Kid,
            record.Context,
            success ? AuditOutcome.Success : AuditOutcome.Failure,
            ErrorCode: success ? null : record.Outcome,
            SessionRef: record.SessionRef,
            Detail: detail);
    }
}

/// <summary>The service's one-commit nonce and audit port over the store's request ledger.</summary>
internal sealed class StoreLedger(StoreRequestLedger ledger) : Service.Ports.IRequestLedger
{
    public Task<bool> TryAddNonceWithAuditAsync(string clientId, string nonce, DateTimeOffset keepUntil, AuditRecord whenNew, AuditRecord whenReplayed,
        CancellationToken cancellationToken) =>
        WorkerTelemetry.TimeStoreAsync("ledger.commit", () => ledger.RecordNonceAndAuditAsync(
            clientId, nonce, keepUntil, StoreAudit.ToEntry(whenNew), StoreAudit.ToEntry(whenReplayed), cancellationToken));
}

/// <summary><see cref="IHsmKeyMetadata"/> over <see cref="IHsmKeyStore"/>.</summary>
internal sealed class StoreKeyMetadata(IHsmKeyStore keys) : IHsmKeyMetadata
{
    public Task<bool> TryAddWithinLimitAsync(ClientKeyMetadata key, int maxKeysPerCurve, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        return WorkerTelemetry.TimeStoreAsync("keys.add", () =>
            keys.TryAddWithinLimitAsync(new Store.HsmKeyInfo(key.Kid, key.OwnerClientId, key.CurveName, key.CreatedAt), maxKeysPerCurve, cancellationToken));
    }

    public async Task<IReadOnlyList<ClientKeyMetadata>> ListAsync(string ownerClientId, IReadOnlyCollection<string>? curveNames,
        CancellationToken cancellationToken) =>
        [.. (await WorkerTelemetry.TimeStoreAsync("keys.list", () => keys.ListAsync(ownerClientId, curveNames, cancellationToken)).ConfigureAwait(false)).Select(ToPort)];

    public async Task<ClientKeyMetadata?> FindAsync(string ownerClientId, string kid, CancellationToken cancellationToken) =>
        await WorkerTelemetry.TimeStoreAsync("keys.find", () => keys.FindAsync(ownerClientId, kid, cancellationToken)).ConfigureAwait(false) is { } key ? ToPort(key) : null;

    public Task<bool> DeleteAsync(string ownerClientId, string kid, CancellationToken cancellationToken) =>
        WorkerTelemetry.TimeStoreAsync("keys.delete", () => keys.DeleteAsync(ownerClientId, kid, cancellationToken));

    public Task<int> CountAsync(string ownerClientId, string curveName, CancellationToken cancellationToken) =>
        WorkerTelemetry.TimeStoreAsync("keys.count", () => keys.CountAsync(ownerClientId, curveName, cancellationToken));

    static ClientKeyMetadata ToPort(Store.HsmKeyInfo key) => new(key.Kid, key.OwnerClientId, key.CurveName, key.CreatedAt);
}

/// <summary><see cref="IVaultStore"/> over <see cref="ISecretStore"/> (the store does the compare-and-set).</summary>
internal sealed class StoreVault(ISecretStore secrets) : IVaultStore
{
    public async Task<SecretWriteResult> TryStoreAsync(SecretWrite write, SecretLimits limits, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(write);
        ArgumentNullException.ThrowIfNull(limits);
        var result = await WorkerTelemetry.TimeStoreAsync("secrets.store", () => secrets.TryStoreAsync(
            new SecretVersionWrite(write.ClientId, write.Kid, write.SecretId, write.Version, write.SealedCiphertext, write.Size, write.StoredAt),
            limits.MaxSecrets, limits.MaxSecretIds, cancellationToken)).ConfigureAwait(false);
        var status = result.Outcome switch
        {
            SecretStoreOutcome.Stored => SecretWriteStatus.Stored,
            SecretStoreOutcome.VersionConflict => SecretWriteStatus.VersionConflict,
            SecretStoreOutcome.LimitReached => SecretWriteStatus.LimitReached,
            _ => throw new InvalidOperationException("Unknown secret store outcome."),
        };
        return new SecretWriteResult(status, result.CurrentVersion);
    }

    public async Task<StoredSecret?> FindAsync(string clientId, string kid, string secretId, CancellationToken cancellationToken) =>
        await WorkerTelemetry.TimeStoreAsync("secrets.find", () => secrets.FindAsync(clientId, kid, secretId, cancellationToken)).ConfigureAwait(false) is { } s
            ? new StoredSecret(s.SecretId, s.Version, s.SealedCiphertext, s.Size, s.StoredAt)
            : null;

    public async Task<IReadOnlyList<SecretSummary>> ListAsync(string clientId, string kid, CancellationToken cancellationToken) =>
        [.. (await WorkerTelemetry.TimeStoreAsync("secrets.list", () => secrets.ListAsync(clientId, kid, cancellationToken)).ConfigureAwait(false))
            .Select(s => new SecretSummary(s.SecretId, s.Version, s.Size, s.StoredAt))];

    public Task<bool> DeleteAsync(string clientId, string kid, string secretId, CancellationToken cancellationToken) =>
        WorkerTelemetry.TimeStoreAsync("secrets.delete", () => secrets.DeleteAsync(clientId, kid, secretId, cancellationToken));
}

/// <summary><see cref="IAuditTrail"/> over the store's audit log: exactly one <c>(client_id, kid)</c>'s rows.</summary>
internal sealed class StoreAuditTrail(StoreAuditLog log) : IAuditTrail
{
    public async Task<IReadOnlyList<AuditTrailEvent>> ReadAsync(string clientId, string kid, DateTimeOffset? since, int limit, CancellationToken cancellationToken) =>
        [.. (await WorkerTelemetry.TimeStoreAsync("audit.trail", () => log.QueryTrailAsync(clientId, kid, since, limit, cancellationToken)).ConfigureAwait(false))
            .Select(e => new AuditTrailEvent(e.Time, e.RequestType, e.Outcome == AuditOutcome.Success, e.ErrorCode))];
}
