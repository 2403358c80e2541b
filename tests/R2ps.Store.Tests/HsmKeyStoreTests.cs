using Microsoft.Extensions.DependencyInjection;
using R2ps.Testing;

namespace R2ps.Store.Tests;

public abstract class HsmKeyStoreTests(TestDatabaseProvider provider) : StoreSuite(provider)
{
    // Compressed points: the P-256 generator (SEC 2 §2.4.2) and 2G, and the P-384 generator (SEC 2 §2.5.1).
    private const string P256G = "036b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296";
    private const string P256TwoG = "037cf27b188d034f7e8a52380304b51ac3c08969e277f21b35a60b48fc47669978";
    private const string P384G = "03aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7";

    private static HsmKeyInfo Key(string kid, string owner, string curve, int minute = 0) =>
        new(kid, owner, curve, TestStore.Start.AddMinutes(minute));

    [Fact]
    public async Task Added_key_is_found_listed_and_counted_for_its_owner()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync();
        await using var _ = store;
        var keys = worker.GetRequiredService<IHsmKeyStore>();

        await keys.AddAsync(Key(P256G, "wallet-1", "P-256"), ct);
        await keys.AddAsync(Key(P384G, "wallet-1", "P-384", 1), ct);
        await keys.AddAsync(Key(P256TwoG, "wallet-1", "P-256", 2), ct);

        Assert.Equal(Key(P384G, "wallet-1", "P-384", 1), await keys.FindAsync("wallet-1", P384G, ct));
        Assert.Equal([P256G, P384G, P256TwoG], (await keys.ListAsync("wallet-1", null, ct)).Select(k => k.Kid));
        Assert.Equal([P256G, P256TwoG], (await keys.ListAsync("wallet-1", ["P-256"], ct)).Select(k => k.Kid));
        Assert.Equal(3, (await keys.ListAsync("wallet-1", [], ct)).Count);
        Assert.Equal(2, await keys.CountAsync("wallet-1", "P-256", ct));
        Assert.Equal(0, await keys.CountAsync("wallet-1", "P-521", ct));
        Assert.Equal(3, await keys.CountAsync("wallet-1", null, ct));
    }

    [Fact]
    public async Task Another_owners_key_is_invisible()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync();
        await using var _ = store;
        var keys = worker.GetRequiredService<IHsmKeyStore>();
        await keys.AddAsync(Key(P256G, "wallet-1", "P-256"), ct);

        Assert.Null(await keys.FindAsync("wallet-2", P256G, ct));
        Assert.Empty(await keys.ListAsync("wallet-2", null, ct));
        Assert.Equal(0, await keys.CountAsync("wallet-2", "P-256", ct));
        Assert.False(await keys.DeleteAsync("wallet-2", P256G, ct));
        Assert.NotNull(await keys.FindAsync("wallet-1", P256G, ct));
    }

    [Fact]
    public async Task Deleted_key_is_gone()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync();
        await using var _ = store;
        var keys = worker.GetRequiredService<IHsmKeyStore>();
        await keys.AddAsync(Key(P256G, "wallet-1", "P-256"), ct);

        Assert.True(await keys.DeleteAsync("wallet-1", P256G, ct));
        Assert.Null(await keys.FindAsync("wallet-1", P256G, ct));
        Assert.False(await keys.DeleteAsync("wallet-1", P256G, ct));
    }

    [Fact]
    public async Task Same_kid_cannot_be_added_twice_even_for_another_owner()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync();
        await using var _ = store;
        var keys = worker.GetRequiredService<IHsmKeyStore>();
        await keys.AddAsync(Key(P256G, "wallet-1", "P-256"), ct);

        await Assert.ThrowsAsync<HsmKeyAlreadyExistsException>(() => keys.AddAsync(Key(P256G, "wallet-2", "P-256"), ct));
        Assert.Null(await keys.FindAsync("wallet-2", P256G, ct));
    }

    [Theory]
    [InlineData("036B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296", "P-256")] // upper case
    [InlineData("046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296", "P-256")] // not compressed
    [InlineData("036b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c2", "P-256")]   // short
    [InlineData(P256G, "P-384")]                                                                 // wrong curve length
    [InlineData(P256G, "secp256k1")]                                                             // unknown curve
    public async Task Malformed_kid_or_curve_is_rejected(string kid, string curve)
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync();
        await using var _ = store;

        await Assert.ThrowsAsync<ArgumentException>(() => worker.GetRequiredService<IHsmKeyStore>().AddAsync(Key(kid, "wallet-1", curve), ct));
    }

    [Fact]
    public async Task Parallel_inserts_from_two_workers_never_pass_the_per_curve_limit()
    {
        // Review finding: count-then-insert let parallel keygens exceed the per-client, per-curve limit.
        var ct = TestContext.Current.CancellationToken;
        var (store, first) = await CreateStoreAsync();
        await using var _ = store;
        var second = await store.StartWorkerAsync();
        var a = first.GetRequiredService<IHsmKeyStore>();
        var b = second.GetRequiredService<IHsmKeyStore>();

        // Distinct well-formed kids (the store checks the shape of a compressed point, not that it is on the curve).
        var inserts = Enumerable.Range(0, 20).Select(i => Task.Run(() =>
            (i % 2 == 0 ? a : b).TryAddWithinLimitAsync(Key("02" + i.ToString("x64", System.Globalization.CultureInfo.InvariantCulture), "wallet-1", "P-256", i), 3, ct), ct));
        var results = await Task.WhenAll(inserts);

        Assert.Equal(3, results.Count(added => added));
        Assert.Equal(3, await a.CountAsync("wallet-1", "P-256", ct));
        // The limit is per curve and per owner.
        Assert.True(await a.TryAddWithinLimitAsync(Key(P384G, "wallet-1", "P-384"), 3, ct));
        Assert.True(await a.TryAddWithinLimitAsync(Key(P256G, "wallet-2", "P-256"), 3, ct));
    }

    [Fact]
    public async Task A_conditional_insert_of_a_kid_already_stored_is_a_conflict()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync();
        await using var _ = store;
        var keys = worker.GetRequiredService<IHsmKeyStore>();
        Assert.True(await keys.TryAddWithinLimitAsync(Key(P256G, "wallet-1", "P-256"), 5, ct));
        await Assert.ThrowsAsync<HsmKeyAlreadyExistsException>(() => keys.TryAddWithinLimitAsync(Key(P256G, "wallet-2", "P-256"), 5, ct));
    }
}

public sealed class HsmKeyStoreTestsOnSqlite() : HsmKeyStoreTests(TestDatabaseProvider.Sqlite);

public sealed class HsmKeyStoreTestsOnPostgres(PostgreSqlServerFixture server) : HsmKeyStoreTests(TestDatabaseProvider.Postgres(server));
