using System.Collections.Concurrent;
using System.Security.Cryptography;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Keys;
using R2ps.Service.Ports;

namespace R2ps.Service.Tests.Fakes;

/// <summary>
/// In-memory stand-ins for the store's ports, with the store's contracts (atomic nonce insert, consuming codes,
/// durable-style lockout). The real EF Core store replaces them once the store branch is merged.
/// </summary>
public sealed class InMemoryStore(TimeProvider time, int maxLoginFailures = 5, TimeSpan? lockoutDuration = null)
    : IClientDirectory, IRegistrationCodes, IOpaqueRecords, ILoginLockout, INonceCache, IAuditLog, IHsmKeyMetadata, ISealedSecretStore,
      IVaultStore, IAuditTrail
{
    private readonly ConcurrentDictionary<(string, string), RegisteredDevice> _clients = new();
    private readonly ConcurrentDictionary<(string, string), (byte[] Hash, DateTimeOffset ExpiresAt)> _codes = new();
    private readonly ConcurrentDictionary<(string, string), byte[]> _records = new();
    private readonly ConcurrentDictionary<(string, string), (int Failures, DateTimeOffset? LockedUntil)> _lockout = new();
    private readonly ConcurrentDictionary<(string, string), DateTimeOffset> _nonces = new();
    private readonly ConcurrentDictionary<string, ClientKeyMetadata> _keys = new();
    private readonly ConcurrentDictionary<string, byte[]> _secrets = new();
    private readonly TimeSpan _lockoutDuration = lockoutDuration ?? TimeSpan.FromMinutes(15);
    private readonly object _gate = new();

    public ConcurrentQueue<AuditRecord> AuditRecords { get; } = new();

    public void Register(string clientId, string kid, EcPublicKey deviceKey, params string[] contexts) =>
        _clients[(clientId, kid)] = new RegisteredDevice(clientId, kid, deviceKey, contexts);

    public void Revoke(string clientId, string kid) => _clients.TryRemove((clientId, kid), out _);

    public string IssueCode(string clientId, string kid)
    {
        var code = RandomNumberGenerator.GetBytes(16);
        _codes[(clientId, kid)] = (SHA256.HashData(code), time.GetUtcNow() + TimeSpan.FromMinutes(10));
        return Base64Std.Encode(code);
    }

    public bool HasCode(string clientId, string kid) => _codes.ContainsKey((clientId, kid));

    public byte[]? RecordOf(string clientId, string kid) => _records.TryGetValue((clientId, kid), out var r) ? r : null;

    public int NonceCount => _nonces.Count;

    public int KeyCount => _keys.Count;

    public Task<RegisteredDevice?> FindAsync(string clientId, string kid, CancellationToken cancellationToken) =>
        Task.FromResult(_clients.TryGetValue((clientId, kid), out var device) ? device : null);

    public Task<bool> IsPendingAsync(string clientId, string kid, CancellationToken cancellationToken) =>
        Task.FromResult(_codes.TryGetValue((clientId, kid), out var stored) && stored.ExpiresAt > time.GetUtcNow());

    public Task<bool> ConsumeAsync(string clientId, string kid, string presentedCodeBase64, CancellationToken cancellationToken)
    {
        if (!_codes.TryRemove((clientId, kid), out var stored)) return Task.FromResult(false);
        if (stored.ExpiresAt <= time.GetUtcNow() || !Base64Std.TryDecode(presentedCodeBase64, out var presented)) return Task.FromResult(false);
        return Task.FromResult(CryptographicOperations.FixedTimeEquals(SHA256.HashData(presented), stored.Hash));
    }

    public Task<byte[]?> GetAsync(string clientId, string kid, CancellationToken cancellationToken) =>
        Task.FromResult(_records.TryGetValue((clientId, kid), out var record) ? (byte[])record.Clone() : null);

    /// <summary>Called before each record write with the token the core passed (tests use it to cancel or fail mid-flow).</summary>
    public Action<CancellationToken>? BeforePut { get; set; }

    public Task PutAsync(string clientId, string kid, ReadOnlyMemory<byte> record, CancellationToken cancellationToken)
    {
        BeforePut?.Invoke(cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();
        _records[(clientId, kid)] = record.ToArray();
        return Task.CompletedTask;
    }

    /// <summary>Called before each reset with the token the core passed.</summary>
    public Action<CancellationToken>? BeforeReset { get; set; }

    public Task<LoginCharge> TryChargeAsync(string clientId, string kid, CancellationToken cancellationToken) => Task.FromResult(Charge(clientId, kid));

    private LoginCharge Charge(string clientId, string kid)
    {
        // The store's contract: check and increment under one lock, so parallel calls get exactly the limit's worth.
        lock (_gate)
        {
            var now = time.GetUtcNow();
            var (failures, lockedUntil) = _lockout.GetValueOrDefault((clientId, kid));
            if (lockedUntil is { } until && until > now) return new LoginCharge(false, failures, until);
            if (lockedUntil is not null) failures = 0;
            if (failures + 1 > maxLoginFailures)
            {
                var forced = now + _lockoutDuration;
                _lockout[(clientId, kid)] = (failures, forced);
                return new LoginCharge(false, failures, forced);
            }
            failures++;
            DateTimeOffset? newLock = failures >= maxLoginFailures ? now + _lockoutDuration : null;
            _lockout[(clientId, kid)] = (failures, newLock);
            return new LoginCharge(true, failures, newLock);
        }
    }

    public Task<LoginCharge?> TryAddNonceAndChargeAsync(string clientId, string kid, string nonce, DateTimeOffset keepNonceUntil,
        CancellationToken cancellationToken)
    {
        // Under the charge's lock, as the store does both in one commit: a used nonce charges nothing.
        lock (_gate)
        {
            return Task.FromResult(_nonces.TryAdd((clientId, nonce), keepNonceUntil) ? Charge(clientId, kid) : null);
        }
    }

    public int FailuresOf(string clientId, string kid) => _lockout.GetValueOrDefault((clientId, kid)).Failures;

    public Task ResetAsync(string clientId, string kid, CancellationToken cancellationToken)
    {
        BeforeReset?.Invoke(cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();
        _lockout.TryRemove((clientId, kid), out _);
        return Task.CompletedTask;
    }

    public Task ResetWithAuditAsync(string clientId, string kid, AuditRecord record, CancellationToken cancellationToken)
    {
        BeforeReset?.Invoke(cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();
        _lockout.TryRemove((clientId, kid), out _);
        AuditRecords.Enqueue(record);
        return Task.CompletedTask;
    }

    public Task<DateTimeOffset?> GetLockedUntilAsync(string clientId, string kid, CancellationToken cancellationToken)
    {
        var (_, lockedUntil) = _lockout.GetValueOrDefault((clientId, kid));
        return Task.FromResult(lockedUntil is { } until && until > time.GetUtcNow() ? lockedUntil : null);
    }

    public Task<bool> TryAddAsync(string clientId, string nonce, DateTimeOffset keepUntil, CancellationToken cancellationToken) =>
        Task.FromResult(_nonces.TryAdd((clientId, nonce), keepUntil));

    public Task AppendAsync(AuditRecord record, CancellationToken cancellationToken)
    {
        AuditRecords.Enqueue(record);
        return Task.CompletedTask;
    }

    public Task<bool> TryAddWithinLimitAsync(ClientKeyMetadata key, int maxKeysPerCurve, CancellationToken cancellationToken)
    {
        // Count and insert under one lock: the store's atomic conditional insert.
        lock (_gate)
        {
            if (_keys.Values.Count(k => k.OwnerClientId == key.OwnerClientId && k.CurveName == key.CurveName) >= maxKeysPerCurve)
                return Task.FromResult(false);
            if (!_keys.TryAdd(key.Kid, key)) throw new InvalidOperationException("The kid is already stored.");
            return Task.FromResult(true);
        }
    }

    public Task<IReadOnlyList<ClientKeyMetadata>> ListAsync(string ownerClientId, IReadOnlyCollection<string>? curveNames, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<ClientKeyMetadata>>(_keys.Values
            .Where(k => k.OwnerClientId == ownerClientId && (curveNames is null || curveNames.Count == 0 || curveNames.Contains(k.CurveName)))
            .OrderBy(k => k.CreatedAt).ThenBy(k => k.Kid, StringComparer.Ordinal).ToList());

    Task<ClientKeyMetadata?> IHsmKeyMetadata.FindAsync(string ownerClientId, string kid, CancellationToken cancellationToken) =>
        Task.FromResult(_keys.TryGetValue(kid, out var key) && key.OwnerClientId == ownerClientId ? key : null);

    public Task<bool> DeleteAsync(string ownerClientId, string kid, CancellationToken cancellationToken) =>
        Task.FromResult(_keys.TryGetValue(kid, out var key) && key.OwnerClientId == ownerClientId && _keys.TryRemove(kid, out _));

    public Task<int> CountAsync(string ownerClientId, string curveName, CancellationToken cancellationToken) =>
        Task.FromResult(_keys.Values.Count(k => k.OwnerClientId == ownerClientId && k.CurveName == curveName));

    Task<byte[]?> ISealedSecretStore.GetAsync(string name, CancellationToken cancellationToken) =>
        Task.FromResult(_secrets.TryGetValue(name, out var value) ? value : null);

    public Task<bool> TryAddAsync(string name, byte[] sealedValue, CancellationToken cancellationToken) =>
        Task.FromResult(_secrets.TryAdd(name, sealedValue));

    // The vault: the store's contract (compare-and-set of the version under one lock, deleted ids keep their counter).
    private readonly Dictionary<(string, string, string), VaultRow> _vault = [];

    /// <summary>A vault row as the database would hold it (sealed value null once deleted).</summary>
    public sealed record VaultRow(long Version, byte[]? Sealed, int Size, DateTimeOffset StoredAt);

    /// <summary>Every vault row, deleted ones included, for checks that nothing was written.</summary>
    public IReadOnlyDictionary<(string ClientId, string Kid, string SecretId), VaultRow> VaultRows
    {
        get { lock (_gate) return new Dictionary<(string, string, string), VaultRow>(_vault); }
    }

    /// <summary>Puts a row back as an attacker with database access would (rollback simulation).</summary>
    public void OverwriteVaultRow(string clientId, string kid, string secretId, VaultRow row)
    {
        lock (_gate) _vault[(clientId, kid, secretId)] = row;
    }

    public Task<SecretWriteResult> TryStoreAsync(SecretWrite write, SecretLimits limits, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var key = (write.ClientId, write.Kid, write.SecretId);
            var current = _vault.GetValueOrDefault(key);
            var counter = current?.Version ?? 0;
            if (write.Version != counter + 1) return Task.FromResult(new SecretWriteResult(SecretWriteStatus.VersionConflict, counter));
            if (current?.Sealed is null)
            {
                var mine = _vault.Where(r => r.Key.Item1 == write.ClientId && r.Key.Item2 == write.Kid).ToList();
                if (mine.Count(r => r.Value.Sealed is not null) >= limits.MaxSecrets || (current is null && mine.Count >= limits.MaxSecretIds))
                    return Task.FromResult(new SecretWriteResult(SecretWriteStatus.LimitReached, counter));
            }
            _vault[key] = new VaultRow(write.Version, write.SealedCiphertext, write.Size, write.StoredAt);
            return Task.FromResult(new SecretWriteResult(SecretWriteStatus.Stored, write.Version));
        }
    }

    Task<StoredSecret?> IVaultStore.FindAsync(string clientId, string kid, string secretId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(_vault.TryGetValue((clientId, kid, secretId), out var row) && row.Sealed is not null
                ? new StoredSecret(secretId, row.Version, row.Sealed, row.Size, row.StoredAt)
                : null);
        }
    }

    Task<IReadOnlyList<SecretSummary>> IVaultStore.ListAsync(string clientId, string kid, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<SecretSummary>>(_vault
                .Where(r => r.Key.Item1 == clientId && r.Key.Item2 == kid && r.Value.Sealed is not null)
                .OrderBy(r => r.Key.Item3, StringComparer.Ordinal)
                .Select(r => new SecretSummary(r.Key.Item3, r.Value.Version, r.Value.Size, r.Value.StoredAt)).ToList());
        }
    }

    Task<bool> IVaultStore.DeleteAsync(string clientId, string kid, string secretId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!_vault.TryGetValue((clientId, kid, secretId), out var row) || row.Sealed is null) return Task.FromResult(false);
            _vault[(clientId, kid, secretId)] = row with { Sealed = null, Size = 0 };
            return Task.FromResult(true);
        }
    }

    public Task<IReadOnlyList<AuditTrailEvent>> ReadAsync(string clientId, string kid, DateTimeOffset? since, int limit, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<AuditTrailEvent>>(AuditRecords
            .Where(r => r.ClientId == clientId && r.Kid == kid && (since is null || r.At >= since))
            .Reverse().Take(limit)
            .Select(r => new AuditTrailEvent(r.At, r.Type ?? "unknown", r.Status == 200, r.Status == 200 ? null : r.Outcome)).ToList());
}
