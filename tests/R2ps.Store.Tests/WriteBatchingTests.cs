using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using R2ps.Testing;

namespace R2ps.Store.Tests;

/// <summary>Group commit of nonces and audit rows (<see cref="StoreOptions.BatchWrites"/>, on by default).</summary>
public abstract class WriteBatchingTests(TestDatabaseProvider provider) : StoreSuite(provider)
{
    private const string Nonce = "3c2b1a09f8e7d6c5b4a3928170615243f8f2c1e0b9a7d6c5b4a39281706f5e4d";

    private static DateTimeOffset Expiry => TestStore.Start.AddSeconds(35);

    private static AuditEntry Entry(string clientId) =>
        new(TestStore.Start, "worker-a", "hsm_ecdsa", clientId, "device-key-1", "hsm", AuditOutcome.Success);

    [Fact]
    public async Task Concurrent_uses_of_one_nonce_in_one_process_admit_exactly_one_while_distinct_nonces_all_pass()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync();
        await using var _ = store;
        var nonces = worker.GetRequiredService<INonceCache>();

        // Same nonce and distinct ones interleaved, so batches hold duplicates next to other writes.
        var same = Enumerable.Range(0, 64).Select(_ => Task.Run(() => nonces.TryRecordAsync("wallet-1", Nonce, Expiry, ct), ct)).ToArray();
        var distinct = Enumerable.Range(0, 64).Select(i => Task.Run(() => nonces.TryRecordAsync("wallet-1", $"n{i:D3}", Expiry, ct), ct)).ToArray();
        var sameResults = await Task.WhenAll(same);
        var distinctResults = await Task.WhenAll(distinct);

        Assert.Equal(1, sameResults.Count(accepted => accepted));
        Assert.All(distinctResults, Assert.True);
        Assert.False(await nonces.TryRecordAsync("wallet-1", Nonce, Expiry, ct));
    }

    [Fact]
    public async Task Concurrent_uses_of_one_nonce_on_two_batching_workers_admit_exactly_one()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync(new() { ["Store:MaxWriteBatchSize"] = "8" });
        await using var _ = store;
        var a = worker.GetRequiredService<INonceCache>();
        var b = (await store.StartWorkerAsync(new() { ["Store:MaxWriteBatchSize"] = "8" })).GetRequiredService<INonceCache>();

        var uses = Enumerable.Range(0, 64).Select(i => Task.Run(() => (i % 2 == 0 ? a : b).TryRecordAsync("wallet-1", Nonce, Expiry, ct), ct));
        var results = await Task.WhenAll(uses);

        Assert.Equal(1, results.Count(accepted => accepted));
    }

    [Fact]
    public async Task Nonces_sent_together_each_get_their_own_outcome_taken_over_refused_or_recorded()
    {
        // One command serves a batch's nonces, bound anew for each: an expired row is taken over, a live one refused and
        // a new one recorded, whichever batches they land in.
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync();
        await using var _ = store;
        var nonces = worker.GetRequiredService<INonceCache>();
        Assert.True(await nonces.TryRecordAsync("wallet-1", "expires-first", TestStore.Start.AddSeconds(10), ct));
        Assert.True(await nonces.TryRecordAsync("wallet-1", "still-live", TestStore.Start.AddSeconds(60), ct));
        store.Clock.Advance(TimeSpan.FromSeconds(30));

        var later = TestStore.Start.AddSeconds(90);
        var uses = new[] { ("wallet-1", "expires-first"), ("wallet-1", "still-live"), ("wallet-1", "new"), ("wallet-2", "still-live") };
        var results = await Task.WhenAll(uses.Select(u => Task.Run(() => nonces.TryRecordAsync(u.Item1, u.Item2, later, ct), ct)));

        Assert.Equal([true, false, true, true], results);
        foreach (var (clientId, nonce) in uses)
            Assert.False(await nonces.TryRecordAsync(clientId, nonce, later, ct));
    }

    [Fact]
    public async Task A_write_is_committed_when_its_call_returns()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync();
        await using var _ = store;

        Assert.True(await worker.GetRequiredService<INonceCache>().TryRecordAsync("wallet-1", Nonce, Expiry, ct));
        await worker.GetRequiredService<IAuditLog>().AppendAsync(Entry("wallet-1"), ct);

        // Another connection, no waiting: what was acknowledged is in the database.
        await using var db = store.OpenContext();
        Assert.Equal([Nonce], await db.Nonces.Select(n => n.Nonce).ToListAsync(ct));
        Assert.Equal(1, await db.Audit.CountAsync(ct));
    }

    [Fact]
    public async Task A_failed_batch_fails_every_waiter_in_it_and_writes_nothing_of_it()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync();
        await using var _ = store;
        await using (var db = store.OpenContext())
            await db.Database.ExecuteSqlRawAsync("DROP TABLE r2ps_audit", ct);
        var nonces = worker.GetRequiredService<INonceCache>();
        var audit = worker.GetRequiredService<IAuditLog>();

        // Audit appends cannot commit now; the nonces queued with them are in the same transactions.
        var writes = Enumerable.Range(0, 48).Select(i => Task.Run(async () =>
        {
            var nonce = $"n{i:D3}";
            try
            {
                if (i % 2 == 0)
                {
                    await audit.AppendAsync(Entry("wallet-1"), ct);
                    return (nonce, Audit: true, Ok: true);
                }

                return (nonce, Audit: false, Ok: await nonces.TryRecordAsync("wallet-1", nonce, Expiry, ct));
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                return (nonce, Audit: i % 2 == 0, Ok: false);
            }
        }, ct));
        var results = await Task.WhenAll(writes);

        Assert.All(results.Where(r => r.Audit), r => Assert.False(r.Ok));
        await using var check = store.OpenContext();
        var stored = await check.Nonces.Select(n => n.Nonce).ToListAsync(ct);
        // Told "recorded" exactly when it is recorded: a nonce that shared a failed batch was failed, not acknowledged.
        Assert.Equal(results.Where(r => !r.Audit && r.Ok).Select(r => r.nonce).Order(), stored.Order());
        // A failed nonce was rolled back, so it can be used once the store works again (nothing was burnt silently).
        var failed = results.Where(r => !r.Audit && !r.Ok).Select(r => r.nonce).ToList();
        foreach (var nonce in failed)
            Assert.True(await nonces.TryRecordAsync("wallet-1", nonce, Expiry, ct));
    }

    [Fact]
    public async Task The_commit_loop_does_not_carry_the_first_writers_ambient_state()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync();
        await using var _ = store;
        var batcher = worker.GetRequiredService<StoreWriteBatcher>();
        using var request = new System.Diagnostics.Activity("first writer's request").Start();
        Ambient.Value = "first writer";

        // The first write starts the loop; an operation runs on it, so it sees what the loop carries.
        var seen = await batcher.RunAsync((_, _) => Task.FromResult((Ambient.Value, System.Diagnostics.Activity.Current?.OperationName)), ct);

        Assert.Equal((null, null), seen);
        Assert.Equal("first writer", Ambient.Value); // the writer's own flow keeps it
    }

    static readonly AsyncLocal<string?> Ambient = new();

    [Fact]
    public async Task A_failing_operation_in_a_batch_fails_only_its_caller_and_rolls_back_only_its_own_writes()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync();
        await using var _ = store;
        var batcher = worker.GetRequiredService<StoreWriteBatcher>();
        var nonces = worker.GetRequiredService<INonceCache>();
        using var inside = new SemaphoreSlim(0);
        using var release = new SemaphoreSlim(0);

        // The first batch is held open by a blocker, so the nonce, the failing operation and the good one queue up
        // behind it and share the next batch.
        var blocker = batcher.RunAsync(async (_, t) => { inside.Release(); await release.WaitAsync(t); return 0; }, ct);
        await inside.WaitAsync(ct);
        var nonce = nonces.TryRecordAsync("wallet-1", Nonce, Expiry, ct);
        var failing = batcher.RunAsync<int>(async (db, t) =>
        {
            await db.Database.ExecuteSqlRawAsync("INSERT INTO r2ps_nonces (client_id, nonce, expires_ms) VALUES ('wallet-1', 'rolled-back', 1)", t);
            throw new InvalidOperationException("this operation fails");
        }, ct);
        var good = batcher.RunAsync((db, t) => db.Database.ExecuteSqlRawAsync("INSERT INTO r2ps_nonces (client_id, nonce, expires_ms) VALUES ('wallet-1', 'kept', 1)", t), ct);
        release.Release();

        await blocker;
        Assert.True(await nonce);
        Assert.Equal("this operation fails", (await Assert.ThrowsAsync<InvalidOperationException>(() => failing)).Message);
        Assert.Equal(1, await good);
        await using var db = store.OpenContext();
        Assert.Equal(new[] { Nonce, "kept" }.Order(StringComparer.Ordinal), (await db.Nonces.Select(n => n.Nonce).ToListAsync(ct)).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Audit_rows_written_as_multi_row_inserts_read_back_exactly_and_in_their_order()
    {
        // More rows than one statement takes, with every nullable column null somewhere and text that SQL would choke
        // on if it were spliced in rather than bound.
        var ct = TestContext.Current.CancellationToken;
        var (store, _) = await CreateStoreAsync();
        await using var __ = store;
        var rows = Enumerable.Range(0, AuditStatements.RowsPerStatement * 2 + 7).Select(i => new R2ps.Store.Data.AuditRow
        {
            TimeMs = 1_796_000_000_000 + i,
            WorkerId = $"worker-{i % 3}",
            RequestType = i % 2 == 0 ? "hsm_ecdsa" : "authenticate",
            ClientId = i % 5 == 0 ? null : $"wallet-'{i}'; DROP TABLE r2ps_audit; --",
            Kid = i % 7 == 0 ? null : $"kid-{i}",
            Context = i % 4 == 0 ? null : "hsm",
            Outcome = i % 3 == 0 ? "failure" : "success",
            ErrorCode = i % 3 == 0 ? "ACCESS_DENIED" : null,
            SessionRef = i % 6 == 0 ? null : $"s\u00e9ssion-{i}",
            Detail = i % 2 == 0 ? null : $"detail \"{i}\" with {{braces}} and ? and $1",
        }).ToList();

        await using (var db = store.OpenContext())
            await AuditStatements.InsertAsync(db, rows, ct);

        await using var read = store.OpenContext();
        var stored = await read.Audit.AsNoTracking().OrderBy(r => r.Id).ToListAsync(ct);
        Assert.Equal(rows.Count, stored.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            var (expected, actual) = (rows[i], stored[i]);
            Assert.Equal(
                (expected.TimeMs, expected.WorkerId, expected.RequestType, expected.ClientId, expected.Kid, expected.Context, expected.Outcome, expected.ErrorCode, expected.SessionRef, expected.Detail),
                (actual.TimeMs, actual.WorkerId, actual.RequestType, actual.ClientId, actual.Kid, actual.Context, actual.Outcome, actual.ErrorCode, actual.SessionRef, actual.Detail));
        }
    }

    // A login evaluate's nonce and its lockout charge are one write (issue 9: one commit fewer per login): a replayed nonce
    // charges nothing, batched or not.
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_nonce_and_its_charge_commit_together_and_a_used_nonce_charges_nothing(bool batching)
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync(new() { ["Store:BatchWrites"] = batching ? "true" : "false" });
        await using var _ = store;
        var attempts = worker.GetRequiredService<ILoginAttemptStore>();

        var results = await Task.WhenAll(Enumerable.Range(0, 8)
            .Select(_ => Task.Run(() => attempts.TryRecordNonceAndChargeAsync("wallet-1", "k", Nonce, Expiry, ct), ct)));

        Assert.Equal([new LoginChargeResult(true, 1, null)], results.OfType<LoginChargeResult>());
        Assert.Equal(7, results.Count(r => r is null));
        Assert.False(await worker.GetRequiredService<INonceCache>().TryRecordAsync("wallet-1", Nonce, Expiry, ct));
        Assert.Equal(new LoginChargeResult(true, 2, null), await attempts.TryChargeAsync("wallet-1", "k", ct));
    }

    [Fact]
    public async Task An_operation_that_fails_after_its_nonce_undoes_the_nonce_too()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync();
        await using var _ = store;
        var batcher = worker.GetRequiredService<StoreWriteBatcher>();

        var failing = batcher.RecordNonceAndRunAsync<int>("wallet-1", Nonce, Expiry.ToUnixTimeMilliseconds(), TestStore.Start.ToUnixTimeMilliseconds(),
            (_, _) => throw new InvalidOperationException("the charge fails"), ct);

        Assert.Equal("the charge fails", (await Assert.ThrowsAsync<InvalidOperationException>(() => failing)).Message);
        Assert.True(await worker.GetRequiredService<INonceCache>().TryRecordAsync("wallet-1", Nonce, Expiry, ct));
    }

    // A successful login's reset and its audit entry: both or neither.
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_reset_commits_with_its_audit_entry(bool batching)
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync(new() { ["Store:BatchWrites"] = batching ? "true" : "false" });
        await using var _ = store;
        var attempts = worker.GetRequiredService<ILoginAttemptStore>();
        await attempts.TryChargeAsync("wallet-1", "k", ct);
        await attempts.TryChargeAsync("wallet-1", "k", ct);

        await attempts.ResetWithAuditAsync("wallet-1", "k", Entry("wallet-1"), ct);

        await using (var db = store.OpenContext())
            Assert.Equal(["wallet-1"], await db.Audit.Select(a => a.ClientId).ToListAsync(ct));
        Assert.Equal(new LoginChargeResult(true, 1, null), await attempts.TryChargeAsync("wallet-1", "k", ct));
    }

    [Fact]
    public async Task An_operation_that_fails_leaves_out_the_audit_row_written_with_it()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync();
        await using var _ = store;
        var batcher = worker.GetRequiredService<StoreWriteBatcher>();

        var failing = batcher.AppendAuditAndRunAsync<int>(AuditLog.ToRow(Entry("wallet-1"), new StoreOptions()),
            (_, _) => throw new InvalidOperationException("the reset fails"), ct);
        await worker.GetRequiredService<IAuditLog>().AppendAsync(Entry("wallet-2"), ct);

        Assert.Equal("the reset fails", (await Assert.ThrowsAsync<InvalidOperationException>(() => failing)).Message);
        await using var db = store.OpenContext();
        Assert.Equal(["wallet-2"], await db.Audit.Select(a => a.ClientId).ToListAsync(ct));
    }

    [Fact]
    public async Task Unbatched_writes_keep_the_same_semantics()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync(new() { ["Store:BatchWrites"] = "false" });
        await using var _ = store;
        var nonces = worker.GetRequiredService<INonceCache>();

        var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() => nonces.TryRecordAsync("wallet-1", Nonce, Expiry, ct), ct)));
        await worker.GetRequiredService<IAuditLog>().AppendAsync(Entry("wallet-1"), ct);

        Assert.Equal(1, results.Count(accepted => accepted));
        await using var db = store.OpenContext();
        Assert.Equal(1, await db.Audit.CountAsync(ct));
    }
}

public sealed class WriteBatchingTestsOnSqlite() : WriteBatchingTests(TestDatabaseProvider.Sqlite);

public sealed class WriteBatchingTestsOnPostgres(PostgreSqlServerFixture server) : WriteBatchingTests(TestDatabaseProvider.Postgres(server));
