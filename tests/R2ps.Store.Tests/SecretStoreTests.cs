using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using R2ps.Testing;

namespace R2ps.Store.Tests;

/// <summary>The vault's rows (PROTOCOL.md 4) on both providers: versions only go up, atomically across workers.</summary>
public abstract class SecretStoreTests(TestDatabaseProvider provider) : StoreSuite(provider)
{
    private const int Live = 32;
    private const int Ids = 256;

    private static SecretVersionWrite Write(string secretId, long version, string clientId = "wallet-1", string kid = "device-key-1", byte fill = 1) =>
        new(clientId, kid, secretId, version, Enumerable.Repeat(fill, 60).ToArray(), 32, TestStore.Start.AddSeconds(version));

    [Fact]
    public async Task Versions_go_up_one_at_a_time_and_deletion_keeps_the_counter()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync();
        await using var _ = store;
        var secrets = worker.GetRequiredService<ISecretStore>();

        Assert.Equal(new SecretStoreResult(SecretStoreOutcome.Stored, 1), await secrets.TryStoreAsync(Write("s", 1), Live, Ids, ct));
        Assert.Equal(new SecretStoreResult(SecretStoreOutcome.Stored, 2), await secrets.TryStoreAsync(Write("s", 2, fill: 2), Live, Ids, ct));
        var found = await secrets.FindAsync("wallet-1", "device-key-1", "s", ct);
        Assert.NotNull(found);
        Assert.Equal((2L, 32, TestStore.Start.AddSeconds(2)), (found.Version, found.Size, found.StoredAt));
        Assert.Equal(Write("s", 2, fill: 2).SealedCiphertext, found.SealedCiphertext);

        foreach (var bad in new long[] { 0, 1, 2, 4, -5 })
            Assert.Equal(new SecretStoreResult(SecretStoreOutcome.VersionConflict, 2), await secrets.TryStoreAsync(Write("s", bad, fill: 9), Live, Ids, ct));
        Assert.Equal(Write("s", 2, fill: 2).SealedCiphertext, (await secrets.FindAsync("wallet-1", "device-key-1", "s", ct))!.SealedCiphertext);

        Assert.True(await secrets.DeleteAsync("wallet-1", "device-key-1", "s", ct));
        Assert.False(await secrets.DeleteAsync("wallet-1", "device-key-1", "s", ct));
        Assert.Null(await secrets.FindAsync("wallet-1", "device-key-1", "s", ct));
        Assert.Empty(await secrets.ListAsync("wallet-1", "device-key-1", ct));
        Assert.Equal(0, await secrets.CountAsync("wallet-1", "device-key-1", ct));
        Assert.Equal(new SecretStoreResult(SecretStoreOutcome.VersionConflict, 2), await secrets.TryStoreAsync(Write("s", 1), Live, Ids, ct));
        Assert.Equal(new SecretStoreResult(SecretStoreOutcome.Stored, 3), await secrets.TryStoreAsync(Write("s", 3), Live, Ids, ct));

        // A deleted row holds no value at all.
        await secrets.DeleteAsync("wallet-1", "device-key-1", "s", ct);
        await using var db = store.OpenContext();
        var row = await db.Secrets.AsNoTracking().SingleAsync(ct);
        Assert.Equal((3L, (byte[]?)null, 0), (row.Version, row.SealedCiphertext, row.Size));
    }

    [Fact]
    public async Task Secrets_are_scoped_to_client_and_kid()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync();
        await using var _ = store;
        var secrets = worker.GetRequiredService<ISecretStore>();
        await secrets.TryStoreAsync(Write("s", 1), Live, Ids, ct);

        Assert.Null(await secrets.FindAsync("wallet-2", "device-key-1", "s", ct));
        Assert.Null(await secrets.FindAsync("wallet-1", "device-key-2", "s", ct));
        Assert.False(await secrets.DeleteAsync("wallet-2", "device-key-1", "s", ct));
        Assert.Empty(await secrets.ListAsync("wallet-2", "device-key-1", ct));
        // Another client's same id is its own counter.
        Assert.Equal(SecretStoreOutcome.Stored, (await secrets.TryStoreAsync(Write("s", 1, clientId: "wallet-2"), Live, Ids, ct)).Outcome);
        Assert.Equal(["s"], (await secrets.ListAsync("wallet-1", "device-key-1", ct)).Select(s => s.SecretId));
        Assert.Equal(1, await secrets.CountAsync("wallet-1", "device-key-1", ct));
    }

    [Fact]
    public async Task Listing_is_by_id_ordinally()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync();
        await using var _ = store;
        var secrets = worker.GetRequiredService<ISecretStore>();
        foreach (var id in new[] { "b", "a", "B", "_", "a.2" })
            await secrets.TryStoreAsync(Write(id, 1), Live, Ids, ct);
        Assert.Equal(["B", "_", "a", "a.2", "b"], (await secrets.ListAsync("wallet-1", "device-key-1", ct)).Select(s => s.SecretId));
    }

    [Fact]
    public async Task Limits_count_live_ids_and_all_ids_and_a_refusal_writes_nothing()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync();
        await using var _ = store;
        var secrets = worker.GetRequiredService<ISecretStore>();
        await secrets.TryStoreAsync(Write("a", 1), 2, 3, ct);
        await secrets.TryStoreAsync(Write("b", 1), 2, 3, ct);
        Assert.Equal(new SecretStoreResult(SecretStoreOutcome.LimitReached, 0), await secrets.TryStoreAsync(Write("c", 1), 2, 3, ct));
        Assert.Equal(SecretStoreOutcome.Stored, (await secrets.TryStoreAsync(Write("a", 2), 2, 3, ct)).Outcome);
        await secrets.DeleteAsync("wallet-1", "device-key-1", "b", ct);
        Assert.Equal(SecretStoreOutcome.Stored, (await secrets.TryStoreAsync(Write("c", 1), 2, 3, ct)).Outcome);
        // Re-creating b would make three live ids.
        Assert.Equal(new SecretStoreResult(SecretStoreOutcome.LimitReached, 1), await secrets.TryStoreAsync(Write("b", 2), 2, 3, ct));
        await secrets.DeleteAsync("wallet-1", "device-key-1", "c", ct);
        // Three ids used (b and c deleted): no fourth, but b comes back.
        Assert.Equal(SecretStoreOutcome.LimitReached, (await secrets.TryStoreAsync(Write("d", 1), 2, 3, ct)).Outcome);
        Assert.Equal(SecretStoreOutcome.Stored, (await secrets.TryStoreAsync(Write("b", 2), 2, 3, ct)).Outcome);
        await using var db = store.OpenContext();
        Assert.Equal(["a", "b", "c"], (await db.Secrets.AsNoTracking().Select(s => s.SecretId).ToListAsync(ct)).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Of_two_workers_storing_the_same_next_version_exactly_one_wins_100_times_out_of_100()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, first) = await CreateStoreAsync();
        await using var _ = store;
        var second = await store.StartWorkerAsync();
        var a = first.GetRequiredService<ISecretStore>();
        var b = second.GetRequiredService<ISecretStore>();

        for (var version = 1L; version <= 100; version++)
        {
            // Version 1 races the insert of a new id; every later one the compare-and-set of the update.
            using var start = new Barrier(2);
            var v = version;
            var one = Task.Run(() => { start.SignalAndWait(ct); return a.TryStoreAsync(Write("race", v, fill: 1), Live, Ids, ct); }, ct);
            var two = Task.Run(() => { start.SignalAndWait(ct); return b.TryStoreAsync(Write("race", v, fill: 2), Live, Ids, ct); }, ct);
            var results = await Task.WhenAll(one, two);

            Assert.Single(results, r => r.Outcome == SecretStoreOutcome.Stored);
            Assert.Single(results, r => r.Outcome == SecretStoreOutcome.VersionConflict && r.CurrentVersion == v);
            var winner = results[0].Outcome == SecretStoreOutcome.Stored ? (byte)1 : (byte)2;
            var stored = await a.FindAsync("wallet-1", "device-key-1", "race", ct);
            Assert.Equal((v, winner), (stored!.Version, stored.SealedCiphertext[0]));
        }
    }

    [Fact]
    public async Task Two_workers_creating_ids_at_once_cannot_pass_the_limit()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, first) = await CreateStoreAsync();
        await using var _ = store;
        var second = await store.StartWorkerAsync();
        var workers = new[] { first.GetRequiredService<ISecretStore>(), second.GetRequiredService<ISecretStore>() };

        var results = await Task.WhenAll(Enumerable.Range(0, 12).Select(i =>
            Task.Run(() => workers[i % 2].TryStoreAsync(Write("id-" + i, 1), 5, Ids, ct), ct)));

        Assert.Equal(5, results.Count(r => r.Outcome == SecretStoreOutcome.Stored));
        Assert.Equal(5, await workers[0].CountAsync("wallet-1", "device-key-1", ct));
    }

    [Fact]
    public async Task The_audit_trail_is_exactly_one_client_and_kid_since_a_time_newest_first()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync();
        await using var _ = store;
        var audit = worker.GetRequiredService<IAuditLog>();
        AuditEntry E(string client, string kid, string type, int second) =>
            new(TestStore.Start.AddSeconds(second), "worker-a", type, client, kid, "hsm", AuditOutcome.Success);
        await audit.AppendAsync(E("wallet-1", "k1", "authenticate", 1), ct);
        await audit.AppendAsync(E("wallet-1", "k2", "authenticate", 2), ct);
        await audit.AppendAsync(E("wallet-2", "k1", "authenticate", 3), ct);
        await audit.AppendAsync(E("wallet-1", "k1", "secret_store", 4), ct);
        await audit.AppendAsync(E("wallet-1", "k1", "secret_list", 5), ct);

        Assert.Equal(["secret_list", "secret_store", "authenticate"], (await audit.QueryTrailAsync("wallet-1", "k1", null, 10, ct)).Select(e => e.RequestType));
        Assert.Equal(["secret_list", "secret_store"], (await audit.QueryTrailAsync("wallet-1", "k1", TestStore.Start.AddSeconds(4), 10, ct)).Select(e => e.RequestType));
        Assert.Equal(["secret_list"], (await audit.QueryTrailAsync("wallet-1", "k1", null, 1, ct)).Select(e => e.RequestType));
    }

    [Fact]
    public async Task Bad_arguments_are_argument_errors_not_database_errors()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync(new() { ["Store:MaxSealedSecretBytes"] = "100" });
        await using var _ = store;
        var secrets = worker.GetRequiredService<ISecretStore>();
        await Assert.ThrowsAsync<ArgumentException>(() => secrets.TryStoreAsync(Write("bad id", 1), Live, Ids, ct));
        await Assert.ThrowsAsync<ArgumentException>(() => secrets.TryStoreAsync(Write("s", 1) with { SealedCiphertext = RandomNumberGenerator.GetBytes(101) }, Live, Ids, ct));
        await Assert.ThrowsAsync<ArgumentException>(() => secrets.FindAsync("wallet-1", "device-key-1", new string('a', 65), ct));
    }
}

public sealed class SecretStoreTestsOnSqlite() : SecretStoreTests(TestDatabaseProvider.Sqlite);

public sealed class SecretStoreTestsOnPostgres(PostgreSqlServerFixture server) : SecretStoreTests(TestDatabaseProvider.Postgres(server));
