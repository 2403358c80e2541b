using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using R2ps.Testing;

namespace R2ps.Store.Tests;

public abstract class NonceCacheTests(TestDatabaseProvider provider) : StoreSuite(provider)
{
    // A reference client's nonce: 64 lowercase hex characters (PROTOCOL.md 1.1).
    private const string Nonce = "8f2c1e0b9a7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a3928170615243f";

    private static DateTimeOffset Expiry => TestStore.Start.AddSeconds(35);

    [Fact]
    public async Task First_use_is_recorded_and_a_replay_is_denied()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync();
        await using var _ = store;
        var nonces = worker.GetRequiredService<INonceCache>();

        Assert.True(await nonces.TryRecordAsync("wallet-1", Nonce, Expiry, ct));
        Assert.False(await nonces.TryRecordAsync("wallet-1", Nonce, Expiry, ct));
    }

    [Fact]
    public async Task Same_nonce_of_another_client_is_not_a_replay()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync();
        await using var _ = store;
        var nonces = worker.GetRequiredService<INonceCache>();

        Assert.True(await nonces.TryRecordAsync("wallet-1", Nonce, Expiry, ct));
        Assert.True(await nonces.TryRecordAsync("wallet-2", Nonce, Expiry, ct));
    }

    [Fact]
    public async Task Replay_on_a_second_worker_is_denied()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync();
        await using var _ = store;
        var other = await store.StartWorkerAsync();

        Assert.True(await worker.GetRequiredService<INonceCache>().TryRecordAsync("wallet-1", Nonce, Expiry, ct));
        Assert.False(await other.GetRequiredService<INonceCache>().TryRecordAsync("wallet-1", Nonce, Expiry, ct));
    }

    [Fact]
    public async Task Replay_after_a_restart_is_denied()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync();
        await using var _ = store;
        Assert.True(await worker.GetRequiredService<INonceCache>().TryRecordAsync("wallet-1", Nonce, Expiry, ct));
        await worker.DisposeAsync();

        var restarted = await store.StartWorkerAsync();

        Assert.False(await restarted.GetRequiredService<INonceCache>().TryRecordAsync("wallet-1", Nonce, Expiry, ct));
    }

    [Fact]
    public async Task Concurrent_uses_of_one_nonce_on_two_workers_admit_exactly_one()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync();
        await using var _ = store;
        var a = worker.GetRequiredService<INonceCache>();
        var b = (await store.StartWorkerAsync()).GetRequiredService<INonceCache>();

        var uses = Enumerable.Range(0, 40)
            .Select(i => Task.Run(() => (i % 2 == 0 ? a : b).TryRecordAsync("wallet-1", Nonce, Expiry, ct), ct));
        var results = await Task.WhenAll(uses);

        Assert.Equal(1, results.Count(accepted => accepted));
    }

    [Fact]
    public async Task Prune_removes_only_expired_entries()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync();
        await using var _ = store;
        var nonces = worker.GetRequiredService<INonceCache>();
        await nonces.TryRecordAsync("wallet-1", "early", TestStore.Start.AddSeconds(10), ct);
        await nonces.TryRecordAsync("wallet-1", "late", TestStore.Start.AddSeconds(60), ct);

        Assert.Equal(1, await nonces.PruneAsync(TestStore.Start.AddSeconds(10), ct));

        await using var db = store.OpenContext();
        Assert.Equal(["late"], await db.Nonces.Select(n => n.Nonce).ToListAsync(ct));
    }

    [Fact]
    public async Task Expired_entry_not_yet_pruned_can_be_recorded_again()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync();
        await using var _ = store;
        var nonces = worker.GetRequiredService<INonceCache>();
        await nonces.TryRecordAsync("wallet-1", Nonce, Expiry, ct);

        store.Clock.Advance(TimeSpan.FromSeconds(35));

        Assert.True(await nonces.TryRecordAsync("wallet-1", Nonce, Expiry.AddSeconds(35), ct));
        Assert.False(await nonces.TryRecordAsync("wallet-1", Nonce, Expiry.AddSeconds(35), ct));
    }

    [Fact]
    public async Task Hosted_service_prunes_expired_nonces_periodically()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var store = await NewStoreAsync();
        var builder = Host.CreateApplicationBuilder();
        // The real clock here: the pruning timer runs on it. An entry that expired a minute ago is due at once.
        builder.Services.AddR2psStore(store.Configuration(new() { ["Store:NoncePruneInterval"] = "00:00:01" }));
        using var host = builder.Build();
        await host.StartAsync(ct);
        try
        {
            var nonces = host.Services.GetRequiredService<INonceCache>();
            await nonces.TryRecordAsync("wallet-1", Nonce, DateTimeOffset.UtcNow.AddMinutes(-1), ct);

            await using var db = store.OpenContext();
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (await db.Nonces.AnyAsync(ct) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100, ct);
            }

            Assert.False(await db.Nonces.AnyAsync(ct));
        }
        finally
        {
            await host.StopAsync(ct);
        }
    }
}

public sealed class NonceCacheTestsOnSqlite() : NonceCacheTests(TestDatabaseProvider.Sqlite);

public sealed class NonceCacheTestsOnPostgres(PostgreSqlServerFixture server) : NonceCacheTests(TestDatabaseProvider.Postgres(server));
