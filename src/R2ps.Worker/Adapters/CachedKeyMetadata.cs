using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using R2ps.Service.Ports;

namespace R2ps.Worker.Adapters;

/// <summary>
/// <see cref="IHsmKeyMetadata"/> with a per-process cache of <see cref="FindAsync"/>'s found keys: every sign and
/// derive looks up its key's metadata, which changes only when the key is created or deleted. Only keys that exist are
/// cached, and a delete through this worker drops its entry at once. A key deleted through another worker may still be
/// found here until the entry's <see cref="WorkerOptions.KeyMetadataCacheTtl"/> ends, which refuses nothing less: the HSM
/// call that follows looks the key up on the token by owner and kid on every request and answers ACCESS_DENIED
/// ("The key is unknown.") exactly as the store would. A kid's owner and curve never change (the kid is its public key).
/// </summary>
internal sealed class CachedKeyMetadata(StoreKeyMetadata inner, IOptions<WorkerOptions> options, TimeProvider time) : IHsmKeyMetadata
{
    private readonly ConcurrentDictionary<(string Owner, string Kid), Entry> _found = new();
    private readonly int _capacity = options.Value.KeyMetadataCacheCapacity;
    private readonly TimeSpan _ttl = options.Value.KeyMetadataCacheTtl;

    public Task<bool> TryAddWithinLimitAsync(ClientKeyMetadata key, int maxKeysPerCurve, CancellationToken cancellationToken) =>
        inner.TryAddWithinLimitAsync(key, maxKeysPerCurve, cancellationToken);

    public Task<IReadOnlyList<ClientKeyMetadata>> ListAsync(string ownerClientId, IReadOnlyCollection<string>? curveNames, CancellationToken cancellationToken) =>
        inner.ListAsync(ownerClientId, curveNames, cancellationToken);

    public async Task<ClientKeyMetadata?> FindAsync(string ownerClientId, string kid, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (_capacity > 0 && _found.TryGetValue((ownerClientId, kid), out var cached) && cached.ExpiresAt > now)
            return cached.Key;
        var key = await inner.FindAsync(ownerClientId, kid, cancellationToken).ConfigureAwait(false);
        if (key is not null && _capacity > 0)
        {
            // Bounded the simplest way: a full cache starts over (entries are one indexed read away).
            if (_found.Count >= _capacity) _found.Clear();
            _found[(ownerClientId, kid)] = new Entry(key, now + _ttl);
        }

        return key;
    }

    public async Task<bool> DeleteAsync(string ownerClientId, string kid, CancellationToken cancellationToken)
    {
        _found.TryRemove((ownerClientId, kid), out _);
        try
        {
            return await inner.DeleteAsync(ownerClientId, kid, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // Again after the delete: a concurrent find on this worker may have put it back in between.
            _found.TryRemove((ownerClientId, kid), out _);
        }
    }

    public Task<int> CountAsync(string ownerClientId, string curveName, CancellationToken cancellationToken) =>
        inner.CountAsync(ownerClientId, curveName, cancellationToken);

    private sealed record Entry(ClientKeyMetadata Key, DateTimeOffset ExpiresAt);
}
