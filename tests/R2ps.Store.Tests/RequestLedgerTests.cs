using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using R2ps.Testing;

namespace R2ps.Store.Tests;

/// <summary>The nonce and the audit entry of a read-only request in one commit (<see cref="IRequestLedger"/>).</summary>
public abstract class RequestLedgerTests(TestDatabaseProvider provider) : StoreSuite(provider)
{
    private const string Nonce = "9f8e7d6c5b4a39281706f5e4d3c2b1a03c2b1a09f8e7d6c5b4a3928170615243";

    private static DateTimeOffset Expiry => TestStore.Start.AddSeconds(35);

    private static AuditEntry Answered(string clientId) =>
        new(TestStore.Start, "worker-a", "hsm_ecdsa", clientId, "device-key-1", "hsm", AuditOutcome.Success, Detail: "status 200");

    private static AuditEntry Replayed(string clientId) =>
        new(TestStore.Start, "worker-a", "hsm_ecdsa", clientId, "device-key-1", "hsm", AuditOutcome.Failure, "ACCESS_DENIED", Detail: "status 403");

    public static TheoryData<bool> Batching => [true, false];

    [Theory]
    [MemberData(nameof(Batching))]
    public async Task A_new_nonce_is_recorded_with_the_answered_entry_and_its_replay_with_the_refusal(bool batching)
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync(new() { ["Store:BatchWrites"] = batching ? "true" : "false" });
        await using var _ = store;
        var ledger = worker.GetRequiredService<IRequestLedger>();

        Assert.True(await ledger.RecordNonceAndAuditAsync("wallet-1", Nonce, Expiry, Answered("wallet-1"), Replayed("wallet-1"), ct));
        Assert.False(await ledger.RecordNonceAndAuditAsync("wallet-1", Nonce, Expiry, Answered("wallet-1"), Replayed("wallet-1"), ct));
        // The same nonce cache as the requests that record theirs first: a ledger nonce is a replay there too.
        Assert.False(await worker.GetRequiredService<INonceCache>().TryRecordAsync("wallet-1", Nonce, Expiry, ct));

        await using var db = store.OpenContext();
        Assert.Equal([Nonce], await db.Nonces.Select(n => n.Nonce).ToListAsync(ct));
        var rows = await db.Audit.OrderBy(a => a.Id).Select(a => new { a.Outcome, a.ErrorCode }).ToListAsync(ct);
        Assert.Equal([new { Outcome = "Success", ErrorCode = (string?)null }, new { Outcome = "Failure", ErrorCode = (string?)"ACCESS_DENIED" }], rows);
    }

    [Fact]
    public async Task A_nonce_recorded_before_a_handler_makes_the_ledger_write_a_replay()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync();
        await using var _ = store;

        Assert.True(await worker.GetRequiredService<INonceCache>().TryRecordAsync("wallet-1", Nonce, Expiry, ct));
        Assert.False(await worker.GetRequiredService<IRequestLedger>().RecordNonceAndAuditAsync("wallet-1", Nonce, Expiry, Answered("wallet-1"), Replayed("wallet-1"), ct));

        await using var db = store.OpenContext();
        Assert.Equal(["ACCESS_DENIED"], await db.Audit.Select(a => a.ErrorCode).ToListAsync(ct));
    }

    [Fact]
    public async Task Concurrent_uses_of_one_nonce_on_two_workers_admit_exactly_one_and_audit_every_use()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync(new() { ["Store:MaxWriteBatchSize"] = "8" });
        await using var _ = store;
        var a = worker.GetRequiredService<IRequestLedger>();
        var b = (await store.StartWorkerAsync(new() { ["Store:MaxWriteBatchSize"] = "8" })).GetRequiredService<IRequestLedger>();

        var uses = Enumerable.Range(0, 48).Select(i => Task.Run(() =>
            (i % 2 == 0 ? a : b).RecordNonceAndAuditAsync("wallet-1", Nonce, Expiry, Answered("wallet-1"), Replayed("wallet-1"), ct), ct));
        var results = await Task.WhenAll(uses);

        Assert.Equal(1, results.Count(recorded => recorded));
        await using var db = store.OpenContext();
        Assert.Equal(1, await db.Audit.CountAsync(r => r.Outcome == "Success", ct));
        Assert.Equal(47, await db.Audit.CountAsync(r => r.ErrorCode == "ACCESS_DENIED", ct));
    }

    [Fact]
    public async Task A_failed_commit_writes_neither_the_nonce_nor_the_entry()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync();
        await using var _ = store;
        await using (var db = store.OpenContext())
            await db.Database.ExecuteSqlRawAsync("DROP TABLE r2ps_audit", ct);
        var ledger = worker.GetRequiredService<IRequestLedger>();

        await Assert.ThrowsAnyAsync<Exception>(() => ledger.RecordNonceAndAuditAsync("wallet-1", Nonce, Expiry, Answered("wallet-1"), Replayed("wallet-1"), ct));

        await using var check = store.OpenContext();
        Assert.Empty(await check.Nonces.ToListAsync(ct));
        // Not burnt: the nonce can be used once the store works again.
        Assert.True(await worker.GetRequiredService<INonceCache>().TryRecordAsync("wallet-1", Nonce, Expiry, ct));
    }
}

public sealed class RequestLedgerTestsOnSqlite() : RequestLedgerTests(TestDatabaseProvider.Sqlite);

public sealed class RequestLedgerTestsOnPostgres(PostgreSqlServerFixture server) : RequestLedgerTests(TestDatabaseProvider.Postgres(server));
