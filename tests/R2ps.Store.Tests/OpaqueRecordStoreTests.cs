using Microsoft.Extensions.DependencyInjection;
using R2ps.Testing;

namespace R2ps.Store.Tests;

public abstract class OpaqueRecordStoreTests(TestDatabaseProvider provider) : StoreSuite(provider)
{
    [Fact]
    public async Task Stored_record_is_returned_and_a_pin_change_replaces_it()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync();
        await using var _ = store;
        var records = worker.GetRequiredService<IOpaqueRecordStore>();

        Assert.Null(await records.GetAsync("wallet-1", "device-key-1", ct));
        await records.PutAsync("wallet-1", "device-key-1", new byte[] { 1, 2, 3 }, ct);
        Assert.Equal(new byte[] { 1, 2, 3 }, await records.GetAsync("wallet-1", "device-key-1", ct));
        await records.PutAsync("wallet-1", "device-key-1", new byte[] { 4, 5 }, ct);
        Assert.Equal(new byte[] { 4, 5 }, await records.GetAsync("wallet-1", "device-key-1", ct));
        Assert.Null(await records.GetAsync("wallet-1", "device-key-2", ct));
    }

    [Fact]
    public async Task Deleted_record_is_gone()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync();
        await using var _ = store;
        var records = worker.GetRequiredService<IOpaqueRecordStore>();
        await records.PutAsync("wallet-1", "device-key-1", new byte[] { 1 }, ct);

        Assert.True(await records.DeleteAsync("wallet-1", "device-key-1", ct));
        Assert.False(await records.DeleteAsync("wallet-1", "device-key-1", ct));
        Assert.Null(await records.GetAsync("wallet-1", "device-key-1", ct));
    }

    [Fact]
    public async Task Empty_or_oversized_record_is_rejected()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync(new() { ["Store:MaxOpaqueRecordBytes"] = "129" });
        await using var _ = store;
        var records = worker.GetRequiredService<IOpaqueRecordStore>();

        await Assert.ThrowsAsync<ArgumentException>(() => records.PutAsync("wallet-1", "k", Array.Empty<byte>(), ct));
        await Assert.ThrowsAsync<ArgumentException>(() => records.PutAsync("wallet-1", "k", new byte[130], ct));
        await records.PutAsync("wallet-1", "k", new byte[129], ct);
    }

    [Fact]
    public async Task Record_written_by_one_worker_is_read_by_another()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync();
        await using var _ = store;
        var other = await store.StartWorkerAsync();

        await worker.GetRequiredService<IOpaqueRecordStore>().PutAsync("wallet-1", "k", new byte[] { 9 }, ct);

        Assert.Equal(new byte[] { 9 }, await other.GetRequiredService<IOpaqueRecordStore>().GetAsync("wallet-1", "k", ct));
    }
}

public sealed class OpaqueRecordStoreTestsOnSqlite() : OpaqueRecordStoreTests(TestDatabaseProvider.Sqlite);

public sealed class OpaqueRecordStoreTestsOnPostgres(PostgreSqlServerFixture server) : OpaqueRecordStoreTests(TestDatabaseProvider.Postgres(server));
