using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using R2ps.Bff.Sessions;
using R2ps.Hsm;
using R2ps.Store;
using R2ps.Testing;

[assembly: AssemblyFixture(typeof(PostgreSqlServerFixture))]
[assembly: AssemblyFixture(typeof(R2ps.Bff.Tests.DeviceSessionKeysFixture))]

namespace R2ps.Bff.Tests;

/// <summary>The BFF's keys on a token of their own, opened once for the test process (one connection per token).</summary>
public sealed class DeviceSessionKeysFixture : IDisposable
{
    readonly HsmConnection _connection;

    public DeviceSessionKeysFixture()
    {
        _connection = HsmConnection.Open(TestHsm.Token("r2ps-device-store").CreateOptions(TestHsm.UserPin, sessionPoolSize: 2));
        Keys = BffKeys.OpenAsync(_connection, new BffOptions()).GetAwaiter().GetResult();
    }

    public BffKeys Keys { get; }

    public void Dispose() => _connection.Dispose();
}

/// <summary>A clock the tests move by hand.</summary>
internal sealed class HandClock : TimeProvider
{
    DateTimeOffset _now = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}

/// <summary>
/// <see cref="DeviceSessionStore"/> on a real database of its own (a SQLite file, or a PostgreSQL database); two stores
/// on one database stand for two BFF processes.
/// </summary>
public abstract class DeviceSessionStoreTests(TestDatabaseProvider backend, DeviceSessionKeysFixture keys) : IAsyncLifetime
{
    static readonly byte[] Key = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
    readonly List<ServiceProvider> _providers = [];
    readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("r2ps-bff-store-");
    string _connectionString = string.Empty;

    static CancellationToken Cancel => TestContext.Current.CancellationToken;

    internal HandClock Clock { get; } = new();

    public async ValueTask InitializeAsync() =>
        _connectionString = await backend.NewConnectionStringAsync(_directory.FullName, "bff.db", Cancel);

    public async ValueTask DisposeAsync()
    {
        foreach (var provider in _providers)
            await provider.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _directory.Delete(recursive: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>A BFF process's store: its own context factory and connections, the tables made sure of.</summary>
    async Task<(DeviceSessionStore Store, IDbContextFactory<BffDbContext> Contexts)> StartStoreAsync(BffOptions? settings = null)
    {
        var options = settings ?? new BffOptions();
        options.Provider = backend.Name;
        options.ConnectionString = _connectionString;
        var services = new ServiceCollection();
        services.AddDbContextFactory<BffDbContext>(builder =>
            RelationalDatabase.Configure(builder, options.Provider, options.ConnectionString, options.BusyTimeout));
        var provider = services.BuildServiceProvider();
        _providers.Add(provider);
        var contexts = provider.GetRequiredService<IDbContextFactory<BffDbContext>>();
        await using (var db = await contexts.CreateDbContextAsync(Cancel))
            await RelationalSchema.EnsureTablesCreatedAsync(db, Cancel);
        var store = new DeviceSessionStore(contexts, keys.Keys, Clock, Options.Create(options), NullLogger<DeviceSessionStore>.Instance);
        return (store, contexts);
    }

    [Fact]
    public async Task A_created_session_is_found_with_its_key_until_its_lifetime_ends()
    {
        var (store, _) = await StartStoreAsync();
        var (sessionId, expiresAt) = await store.CreateAsync("wallet-1", "kid-1", Key, Cancel);

        using (var found = await store.FindAsync(sessionId, Cancel))
        {
            Assert.NotNull(found);
            Assert.Equal(("wallet-1", "kid-1", expiresAt), (found.ClientId, found.Kid, found.ExpiresAt));
            Assert.Equal(Key, found.Key.ToArray());
        }

        Clock.Advance(expiresAt - Clock.GetUtcNow());
        Assert.Null(await store.FindAsync(sessionId, Cancel));
    }

    [Fact]
    public async Task A_session_created_by_one_bff_is_served_by_another_on_the_same_database()
    {
        var (first, _) = await StartStoreAsync();
        var (second, _) = await StartStoreAsync();
        var (sessionId, _) = await first.CreateAsync("wallet-1", "kid-1", Key, Cancel);

        using var found = await second.FindAsync(sessionId, Cancel);

        Assert.NotNull(found);
        Assert.Equal(Key, found.Key.ToArray());
    }

    [Fact]
    public async Task The_key_is_stored_sealed_and_a_sealed_key_moved_to_another_row_does_not_open()
    {
        var (store, contexts) = await StartStoreAsync();
        // Another BFF reads the rows (the one that created the sessions keeps them, and would not look at the row).
        var (reader, _) = await StartStoreAsync();
        var (victim, _) = await store.CreateAsync("wallet-1", "kid-1", Key, Cancel);
        var (attacker, _) = await store.CreateAsync("wallet-2", "kid-2", new byte[32], Cancel);
        await using (var db = await contexts.CreateDbContextAsync(Cancel))
        {
            var rows = await db.DeviceSessions.ToListAsync(Cancel);
            Assert.All(rows, r => Assert.Equal(-1, r.SealedKey.AsSpan().IndexOf(Key)));
            rows.Single(r => r.SessionId == attacker).SealedKey = rows.Single(r => r.SessionId == victim).SealedKey;
            await db.SaveChangesAsync(Cancel);
        }

        Assert.Null(await reader.FindAsync(attacker, Cancel));
        using var victimSession = await reader.FindAsync(victim, Cancel);
        Assert.Equal(Key, victimSession!.Key.ToArray());
    }

    [Fact]
    public async Task A_kept_session_is_served_without_its_row_until_it_expires()
    {
        var (store, contexts) = await StartStoreAsync();
        var (other, _) = await StartStoreAsync();
        var (sessionId, expiresAt) = await store.CreateAsync("wallet-1", "kid-1", Key, Cancel);
        using (var first = await other.FindAsync(sessionId, Cancel))
            Assert.NotNull(first); // read from the row once, then kept by that BFF too
        await using (var db = await contexts.CreateDbContextAsync(Cancel))
            await db.DeviceSessions.Where(r => r.SessionId == sessionId).ExecuteDeleteAsync(Cancel);

        // Neither BFF reads the row again: a device session never changes before it expires.
        foreach (var bff in new[] { store, other })
        {
            using var kept = await bff.FindAsync(sessionId, Cancel);
            Assert.Equal(("wallet-1", "kid-1", expiresAt), (kept!.ClientId, kept.Kid, kept.ExpiresAt));
            Assert.Equal(Key, kept.Key.ToArray());
        }

        // A disposed copy does not touch the kept key.
        var copy = (await store.FindAsync(sessionId, Cancel))!;
        copy.Dispose();
        using (var again = await store.FindAsync(sessionId, Cancel))
            Assert.Equal(Key, again!.Key.ToArray());

        // Expiry is checked on every use, as the row's is.
        Clock.Advance(expiresAt - Clock.GetUtcNow());
        Assert.Null(await store.FindAsync(sessionId, Cancel));
        Assert.Null(await other.FindAsync(sessionId, Cancel));
    }

    [Fact]
    public async Task With_the_cache_off_every_find_reads_the_row()
    {
        var (store, contexts) = await StartStoreAsync(new BffOptions { DeviceSessionCacheSize = 0 });
        var (sessionId, _) = await store.CreateAsync("wallet-1", "kid-1", Key, Cancel);
        using (var found = await store.FindAsync(sessionId, Cancel))
            Assert.NotNull(found);
        await using (var db = await contexts.CreateDbContextAsync(Cancel))
            await db.DeviceSessions.Where(r => r.SessionId == sessionId).ExecuteDeleteAsync(Cancel);

        Assert.Null(await store.FindAsync(sessionId, Cancel));
    }

    [Fact]
    public void The_kept_sessions_are_bounded_and_an_expired_one_goes_first()
    {
        var now = Clock.GetUtcNow();
        using var kept = new KeptDeviceSessions(capacity: 2);
        kept.Add("a", "w", "k", Key, now.AddMinutes(1), now);
        kept.Add("b", "w", "k", Key, now.AddSeconds(1), now);
        using (var a = kept.TryGet("a", now)) Assert.NotNull(a);

        // Full: the expired entry goes first ("b" at now + 2 s); "a" stays.
        kept.Add("c", "w", "k", Key, now.AddMinutes(1), now.AddSeconds(2));
        Assert.Equal(2, kept.Count);
        Assert.Null(kept.TryGet("b", now));
        // Full of live entries: all go (the rows stay; a miss reads them again).
        kept.Add("d", "w", "k", Key, now.AddMinutes(1), now.AddSeconds(2));
        Assert.Equal(1, kept.Count);
        Assert.Null(kept.TryGet("a", now));
        Assert.NotNull(kept.TryGet("d", now));
        // An entry already expired is not added.
        kept.Add("e", "w", "k", Key, now, now);
        Assert.Null(kept.TryGet("e", now));
    }

    [Fact]
    public async Task A_nonce_is_recorded_once_and_taken_over_only_after_it_expired()
    {
        var (store, _) = await StartStoreAsync();
        var keepUntil = Clock.GetUtcNow().AddSeconds(35);

        Assert.True(await store.TryRecordNonceAsync("wallet-1", "nonce-1", keepUntil, Cancel));
        Assert.False(await store.TryRecordNonceAsync("wallet-1", "nonce-1", keepUntil, Cancel));
        Assert.True(await store.TryRecordNonceAsync("wallet-2", "nonce-1", keepUntil, Cancel)); // per client

        Clock.Advance(TimeSpan.FromSeconds(35));
        Assert.True(await store.TryRecordNonceAsync("wallet-1", "nonce-1", keepUntil.AddSeconds(35), Cancel));
        Assert.False(await store.TryRecordNonceAsync("wallet-1", "nonce-1", keepUntil.AddSeconds(35), Cancel));
    }

    [Fact]
    public async Task Of_one_nonce_sent_to_several_bffs_at_once_exactly_one_is_accepted()
    {
        var stores = new List<DeviceSessionStore>();
        for (var i = 0; i < 4; i++)
            stores.Add((await StartStoreAsync()).Store);
        var keepUntil = Clock.GetUtcNow().AddSeconds(35);

        var accepted = await Task.WhenAll(Enumerable.Range(0, 16).Select(i =>
            Task.Run(() => stores[i % stores.Count].TryRecordNonceAsync("wallet-1", "raced", keepUntil, Cancel), Cancel)));

        Assert.Single(accepted, a => a);
    }

    [Fact]
    public async Task Pruning_removes_expired_sessions_and_nonces_and_keeps_live_ones()
    {
        var (store, contexts) = await StartStoreAsync();
        var (expired, _) = await store.CreateAsync("wallet-1", "kid-1", Key, Cancel);
        await store.TryRecordNonceAsync("wallet-1", "old", Clock.GetUtcNow().AddSeconds(1), Cancel);
        Clock.Advance(TimeSpan.FromMinutes(16)); // past the 15 min device-session lifetime
        var (live, _) = await store.CreateAsync("wallet-1", "kid-1", Key, Cancel);
        await store.TryRecordNonceAsync("wallet-1", "new", Clock.GetUtcNow().AddSeconds(35), Cancel);

        Assert.Equal(2, await store.PruneAsync(Cancel));

        await using var db = await contexts.CreateDbContextAsync(Cancel);
        Assert.Equal([live], await db.DeviceSessions.Select(r => r.SessionId).ToListAsync(Cancel));
        Assert.Equal(["new"], await db.Nonces.Select(r => r.Nonce).ToListAsync(Cancel));
        Assert.NotEqual(expired, live);
    }
}

public sealed class DeviceSessionStoreTestsOnSqlite(DeviceSessionKeysFixture keys)
    : DeviceSessionStoreTests(TestDatabaseProvider.Sqlite, keys);

public sealed class DeviceSessionStoreTestsOnPostgres(PostgreSqlServerFixture server, DeviceSessionKeysFixture keys)
    : DeviceSessionStoreTests(TestDatabaseProvider.Postgres(server), keys);
