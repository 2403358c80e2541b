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
    : IClientDirectory, IRegistrationCodes, IOpaqueRecords, ILoginLockout, INonceCache, IAuditLog, IHsmKeyMetadata, ISealedSecretStore
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

    public Task<bool> ConsumeAsync(string clientId, string kid, string presentedCodeBase64, CancellationToken cancellationToken)
    {
        if (!_codes.TryRemove((clientId, kid), out var stored)) return Task.FromResult(false);
        if (stored.ExpiresAt <= time.GetUtcNow() || !Base64Std.TryDecode(presentedCodeBase64, out var presented)) return Task.FromResult(false);
        return Task.FromResult(CryptographicOperations.FixedTimeEquals(SHA256.HashData(presented), stored.Hash));
    }

    public Task<byte[]?> GetAsync(string clientId, string kid, CancellationToken cancellationToken) =>
        Task.FromResult(_records.TryGetValue((clientId, kid), out var record) ? (byte[])record.Clone() : null);

    public Task PutAsync(string clientId, string kid, ReadOnlyMemory<byte> record, CancellationToken cancellationToken)
    {
        _records[(clientId, kid)] = record.ToArray();
        return Task.CompletedTask;
    }

    public Task<DateTimeOffset?> RecordFailureAsync(string clientId, string kid, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var now = time.GetUtcNow();
            var (failures, lockedUntil) = _lockout.GetValueOrDefault((clientId, kid));
            if (lockedUntil is { } until && until > now) return Task.FromResult<DateTimeOffset?>(until);
            if (lockedUntil is not null) failures = 0;
            failures++;
            DateTimeOffset? newLock = failures >= maxLoginFailures ? now + _lockoutDuration : null;
            _lockout[(clientId, kid)] = (failures, newLock);
            return Task.FromResult(newLock);
        }
    }

    public Task ResetAsync(string clientId, string kid, CancellationToken cancellationToken)
    {
        _lockout.TryRemove((clientId, kid), out _);
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

    public Task AddAsync(ClientKeyMetadata key, CancellationToken cancellationToken)
    {
        if (!_keys.TryAdd(key.Kid, key)) throw new InvalidOperationException("The kid is already stored.");
        return Task.CompletedTask;
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
}
