using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using R2ps.Testing;

namespace R2ps.Store.Tests;

/// <summary>
/// Issue 10 item 2: audit entries are kept for <see cref="StoreOptions.AuditRetention"/>, expired nonces go, both pruned in
/// batches of <see cref="StoreOptions.PruneBatchSize"/> by the store's hosted service. On SQLite and PostgreSQL.
/// </summary>
public abstract class RetentionTests(TestDatabaseProvider provider) : StoreSuite(provider)
{
    private static AuditEntry Entry(DateTimeOffset time, string clientId = "wallet-1") =>
        new(time, "worker-a", "authenticate", clientId, "k1", "hsm", AuditOutcome.Success);

    [Fact]
    public async Task Audit_entries_older_than_the_retention_are_pruned_and_younger_ones_kept()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync(new() { ["Store:AuditRetention"] = "30.00:00:00" });
        await using var _ = store;
        var audit = worker.GetRequiredService<IAuditLog>();
        await audit.AppendAsync(Entry(TestStore.Start), ct);
        await audit.AppendAsync(Entry(TestStore.Start.AddDays(20)), ct);

        // 30 days after the first entry it is due, not before.
        store.Clock.Advance(TimeSpan.FromDays(30) - TimeSpan.FromSeconds(1));
        Assert.Equal(new PruneResult(0, 0), await worker.GetRequiredService<StoreRetention>().PruneAsync(ct));
        store.Clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(new PruneResult(0, 1), await worker.GetRequiredService<StoreRetention>().PruneAsync(ct));

        var left = await audit.QueryByClientAsync("wallet-1", 10, ct);
        Assert.Equal([TestStore.Start.AddDays(20)], left.Select(e => e.Time));
    }

    [Fact]
    public async Task A_backlog_goes_in_batches_of_the_configured_size_and_every_due_row_goes_in_one_pass()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync(new() { ["Store:AuditRetention"] = "1.00:00:00", ["Store:PruneBatchSize"] = "2" });
        await using var _ = store;
        var audit = worker.GetRequiredService<IAuditLog>();
        var nonces = worker.GetRequiredService<INonceCache>();
        for (var i = 0; i < 5; i++)
        {
            await audit.AppendAsync(Entry(TestStore.Start), ct);
            Assert.True(await nonces.TryRecordAsync("wallet-1", $"nonce-{i}", TestStore.Start.AddSeconds(35), ct));
        }

        Assert.True(await nonces.TryRecordAsync("wallet-1", "live", TestStore.Start.AddDays(5), ct));
        await audit.AppendAsync(Entry(TestStore.Start.AddDays(2)), ct);
        store.Clock.Advance(TimeSpan.FromDays(1) + TimeSpan.FromSeconds(1));
        var retention = worker.GetRequiredService<StoreRetention>();

        // One statement deletes at most a batch.
        var nowMs = store.Clock.GetUtcNow().ToUnixTimeMilliseconds();
        Assert.Equal(2, await retention.PruneNonceBatchAsync(nowMs, 2, ct));
        Assert.Equal(2, await retention.PruneAuditBatchAsync(TestStore.Start.AddMinutes(1).ToUnixTimeMilliseconds(), 2, ct));

        // A pass goes on until nothing is due.
        Assert.Equal(new PruneResult(3, 3), await retention.PruneAsync(ct));
        await using var db = store.OpenContext();
        Assert.Equal(["live"], await db.Nonces.Select(n => n.Nonce).ToListAsync(ct));
        Assert.Equal(1, await db.Audit.CountAsync(ct));
    }

    [Fact]
    public async Task Hosted_service_prunes_audit_entries_past_their_retention()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var store = await NewStoreAsync();
        var builder = Host.CreateApplicationBuilder();
        // The real clock here: the pruning timer runs on it. An entry written 91 days ago is due at once.
        builder.Services.AddR2psStore(store.Configuration(new() { ["Store:NoncePruneInterval"] = "00:00:01", ["Store:AuditRetention"] = "90.00:00:00" }));
        using var host = builder.Build();
        await host.StartAsync(ct);
        try
        {
            var audit = host.Services.GetRequiredService<IAuditLog>();
            await audit.AppendAsync(Entry(DateTimeOffset.UtcNow.AddDays(-91), "old-wallet"), ct);
            await audit.AppendAsync(Entry(DateTimeOffset.UtcNow, "young-wallet"), ct);

            // Bounded only by the test's own cancellation: the point is that it goes, not how fast.
            while ((await audit.QueryByClientAsync("old-wallet", 10, ct)).Count > 0)
            {
                await Task.Delay(100, ct);
            }

            Assert.Single(await audit.QueryByClientAsync("young-wallet", 10, ct));
        }
        finally
        {
            await host.StopAsync(ct);
        }
    }
}

public sealed class RetentionTestsOnSqlite() : RetentionTests(TestDatabaseProvider.Sqlite);

public sealed class RetentionTestsOnPostgres(PostgreSqlServerFixture server) : RetentionTests(TestDatabaseProvider.Postgres(server));
