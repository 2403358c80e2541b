using Microsoft.Extensions.DependencyInjection;
using R2ps.Testing;

namespace R2ps.Store.Tests;

public abstract class LoginAttemptStoreTests(TestDatabaseProvider provider) : StoreSuite(provider)
{
    [Fact]
    public async Task Fifth_consecutive_charge_is_allowed_and_locks_for_fifteen_minutes()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync();
        await using var _ = store;
        var attempts = worker.GetRequiredService<ILoginAttemptStore>();

        for (var i = 1; i <= 4; i++)
        {
            Assert.Equal(new LoginChargeResult(true, i, null), await attempts.TryChargeAsync("wallet-1", "k", ct));
        }

        Assert.Null(await attempts.GetLockedUntilAsync("wallet-1", "k", ct));
        var fifth = await attempts.TryChargeAsync("wallet-1", "k", ct);

        Assert.Equal(new LoginChargeResult(true, 5, TestStore.Start.AddMinutes(15)), fifth);
        Assert.Equal(TestStore.Start.AddMinutes(15), await attempts.GetLockedUntilAsync("wallet-1", "k", ct));
        Assert.Null(await attempts.GetLockedUntilAsync("wallet-1", "other", ct));
    }

    [Fact]
    public async Task Success_resets_the_count()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync();
        await using var _ = store;
        var attempts = worker.GetRequiredService<ILoginAttemptStore>();
        for (var i = 0; i < 4; i++)
        {
            await attempts.TryChargeAsync("wallet-1", "k", ct);
        }

        await attempts.ResetAsync("wallet-1", "k", ct);

        Assert.Equal(new LoginChargeResult(true, 1, null), await attempts.TryChargeAsync("wallet-1", "k", ct));
    }

    [Fact]
    public async Task Charges_during_a_lockout_are_refused_and_do_not_extend_it()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync();
        await using var _ = store;
        var attempts = worker.GetRequiredService<ILoginAttemptStore>();
        for (var i = 0; i < 5; i++)
        {
            await attempts.TryChargeAsync("wallet-1", "k", ct);
        }

        store.Clock.Advance(TimeSpan.FromMinutes(5));
        var sixth = await attempts.TryChargeAsync("wallet-1", "k", ct);

        Assert.Equal(new LoginChargeResult(false, 5, TestStore.Start.AddMinutes(15)), sixth);
    }

    [Fact]
    public async Task Lockout_ends_and_counting_starts_again()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync();
        await using var _ = store;
        var attempts = worker.GetRequiredService<ILoginAttemptStore>();
        for (var i = 0; i < 5; i++)
        {
            await attempts.TryChargeAsync("wallet-1", "k", ct);
        }

        store.Clock.Advance(TimeSpan.FromMinutes(15));

        Assert.Null(await attempts.GetLockedUntilAsync("wallet-1", "k", ct));
        Assert.Equal(new LoginChargeResult(true, 1, null), await attempts.TryChargeAsync("wallet-1", "k", ct));
    }

    [Fact]
    public async Task Threshold_and_duration_are_configurable()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync(new()
        {
            ["Store:MaxConsecutiveLoginFailures"] = "2",
            ["Store:LockoutDuration"] = "00:01:00",
        });
        await using var _ = store;
        var attempts = worker.GetRequiredService<ILoginAttemptStore>();

        Assert.Equal(new LoginChargeResult(true, 1, null), await attempts.TryChargeAsync("wallet-1", "k", ct));
        Assert.Equal(new LoginChargeResult(true, 2, TestStore.Start.AddMinutes(1)), await attempts.TryChargeAsync("wallet-1", "k", ct));
    }

    [Fact]
    public async Task Threshold_of_one_locks_on_the_first_charge_and_again_after_expiry()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync(new() { ["Store:MaxConsecutiveLoginFailures"] = "1" });
        await using var _ = store;
        var attempts = worker.GetRequiredService<ILoginAttemptStore>();

        Assert.Equal(new LoginChargeResult(true, 1, TestStore.Start.AddMinutes(15)), await attempts.TryChargeAsync("wallet-1", "k", ct));
        store.Clock.Advance(TimeSpan.FromMinutes(15));
        Assert.Equal(new LoginChargeResult(true, 1, TestStore.Start.AddMinutes(30)), await attempts.TryChargeAsync("wallet-1", "k", ct));
    }

    // Batched: the charges share the group commit with nonces and audit rows (StoreWriteBatcher.RunAsync); unbatched:
    // a transaction each. The same verdicts either way.
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Twenty_parallel_charges_from_two_workers_allow_exactly_five_guesses(bool batching)
    {
        // Review finding: a lock check separate from the charge let N parallel evaluates all pass → N PIN guesses.
        var ct = TestContext.Current.CancellationToken;
        var settings = new Dictionary<string, string?> { ["Store:BatchWrites"] = batching ? "true" : "false" };
        var (store, first) = await CreateStoreAsync(settings);
        await using var _ = store;
        var second = await store.StartWorkerAsync(settings);
        var a = first.GetRequiredService<ILoginAttemptStore>();
        var b = second.GetRequiredService<ILoginAttemptStore>();

        var charges = Enumerable.Range(0, 20)
            .Select(i => Task.Run(() => (i % 2 == 0 ? a : b).TryChargeAsync("wallet-1", "k", ct), ct));
        var results = await Task.WhenAll(charges);

        Assert.Equal(5, results.Count(r => r.Allowed));
        Assert.Equal([1, 2, 3, 4, 5], results.Where(r => r.Allowed).Select(r => r.ConsecutiveFailures).Order());
        Assert.All(results.Where(r => !r.Allowed), r => Assert.Equal(TestStore.Start.AddMinutes(15), r.LockedUntil));
        Assert.Equal(TestStore.Start.AddMinutes(15), await b.GetLockedUntilAsync("wallet-1", "k", ct));
    }

    [Fact]
    public async Task A_charge_on_a_locked_key_is_refused_without_extending_the_lock_and_counting_restarts_after_it()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync(new() { ["Store:MaxConsecutiveLoginFailures"] = "2" });
        await using var _ = store;
        var attempts = worker.GetRequiredService<ILoginAttemptStore>();

        Assert.Equal(new LoginChargeResult(true, 1, null), await attempts.TryChargeAsync("wallet-1", "k", ct));
        Assert.Equal(new LoginChargeResult(true, 2, TestStore.Start.AddMinutes(15)), await attempts.TryChargeAsync("wallet-1", "k", ct));
        store.Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(new LoginChargeResult(false, 2, TestStore.Start.AddMinutes(15)), await attempts.TryChargeAsync("wallet-1", "k", ct));
        store.Clock.Advance(TimeSpan.FromMinutes(14));
        Assert.Equal(new LoginChargeResult(true, 1, null), await attempts.TryChargeAsync("wallet-1", "k", ct));
    }

    [Fact]
    public async Task A_count_past_a_lowered_limit_is_refused_and_locked_for_the_lockout_duration_not_forever()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync();
        await using var _ = store;
        for (var i = 0; i < 3; i++) await worker.GetRequiredService<ILoginAttemptStore>().TryChargeAsync("wallet-1", "k", ct);
        var lowered = await store.StartWorkerAsync(new() { ["Store:MaxConsecutiveLoginFailures"] = "2" });
        var attempts = lowered.GetRequiredService<ILoginAttemptStore>();

        Assert.Equal(new LoginChargeResult(false, 3, TestStore.Start.AddMinutes(15)), await attempts.TryChargeAsync("wallet-1", "k", ct));
        store.Clock.Advance(TimeSpan.FromMinutes(15));
        Assert.True((await attempts.TryChargeAsync("wallet-1", "k", ct)).Allowed);
    }
}

public sealed class LoginAttemptStoreTestsOnSqlite() : LoginAttemptStoreTests(TestDatabaseProvider.Sqlite);

public sealed class LoginAttemptStoreTestsOnPostgres(PostgreSqlServerFixture server) : LoginAttemptStoreTests(TestDatabaseProvider.Postgres(server));
