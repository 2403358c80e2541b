using Microsoft.Extensions.Options;
using R2ps.Store;
using R2ps.Worker.Adapters;

namespace R2ps.Worker.Tests;

/// <summary>The worker's cache of HSM key metadata (<see cref="CachedKeyMetadata"/>): what it keeps, and when it lets go.</summary>
public sealed class KeyMetadataCacheTests
{
    private const string Owner = "wallet-1";
    private const string Kid = "02aa";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private sealed class CountingStore : IHsmKeyStore
    {
        public Dictionary<(string, string), HsmKeyInfo> Keys { get; } = [];

        public int Finds { get; private set; }

        public Task AddAsync(HsmKeyInfo key, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<bool> TryAddWithinLimitAsync(HsmKeyInfo key, int maxKeysPerCurve, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<IReadOnlyList<HsmKeyInfo>> ListAsync(string ownerClientId, IReadOnlyCollection<string>? curves, CancellationToken cancellationToken) =>
            throw new NotSupportedException();

        public Task<HsmKeyInfo?> FindAsync(string ownerClientId, string kid, CancellationToken cancellationToken)
        {
            Finds++;
            return Task.FromResult(Keys.GetValueOrDefault((ownerClientId, kid)));
        }

        public Task<bool> DeleteAsync(string ownerClientId, string kid, CancellationToken cancellationToken) => Task.FromResult(Keys.Remove((ownerClientId, kid)));

        public Task<int> CountAsync(string ownerClientId, string? curveName, CancellationToken cancellationToken) => throw new NotSupportedException();
    }

    private sealed class ManualClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static (CachedKeyMetadata Cache, CountingStore Store, ManualClock Clock) Create(int capacity = 100, int ttlSeconds = 60)
    {
        var store = new CountingStore();
        store.Keys[(Owner, Kid)] = new HsmKeyInfo(Kid, Owner, "P-256", DateTimeOffset.UnixEpoch);
        var clock = new ManualClock();
        var options = Options.Create(new WorkerOptions { KeyMetadataCacheCapacity = capacity, KeyMetadataCacheTtl = TimeSpan.FromSeconds(ttlSeconds) });
        return (new CachedKeyMetadata(new StoreKeyMetadata(store), options, clock), store, clock);
    }

    [Fact]
    public async Task A_found_key_is_read_from_the_store_once_within_its_ttl()
    {
        var (cache, store, clock) = Create();

        Assert.NotNull(await cache.FindAsync(Owner, Kid, Ct));
        Assert.NotNull(await cache.FindAsync(Owner, Kid, Ct));
        Assert.Equal(1, store.Finds);

        clock.Now += TimeSpan.FromSeconds(61);
        Assert.NotNull(await cache.FindAsync(Owner, Kid, Ct));
        Assert.Equal(2, store.Finds);
    }

    [Fact]
    public async Task An_unknown_key_is_not_cached_and_another_owner_does_not_see_a_cached_key()
    {
        var (cache, store, _) = Create();
        Assert.NotNull(await cache.FindAsync(Owner, Kid, Ct));

        Assert.Null(await cache.FindAsync("wallet-2", Kid, Ct));
        Assert.Null(await cache.FindAsync("wallet-2", Kid, Ct));
        Assert.Equal(3, store.Finds);
    }

    [Fact]
    public async Task A_delete_through_the_worker_drops_the_entry_at_once()
    {
        var (cache, _, _) = Create();
        Assert.NotNull(await cache.FindAsync(Owner, Kid, Ct));

        Assert.True(await cache.DeleteAsync(Owner, Kid, Ct));

        Assert.Null(await cache.FindAsync(Owner, Kid, Ct));
    }

    [Fact]
    public async Task Capacity_zero_turns_the_cache_off()
    {
        var (cache, store, _) = Create(capacity: 0);

        await cache.FindAsync(Owner, Kid, Ct);
        await cache.FindAsync(Owner, Kid, Ct);

        Assert.Equal(2, store.Finds);
    }

    [Fact]
    public void Cache_limits_are_validated()
    {
        var result = new WorkerOptionsValidator().Validate(null, new WorkerOptions { KeyMetadataCacheCapacity = -1, KeyMetadataCacheTtl = TimeSpan.Zero });

        Assert.Contains("Worker:KeyMetadataCacheCapacity must be between 0 (no cache) and 1000000.", result.Failures!);
        Assert.Contains("Worker:KeyMetadataCacheTtl must be between 1 second and 1 day.", result.Failures!);
    }
}
