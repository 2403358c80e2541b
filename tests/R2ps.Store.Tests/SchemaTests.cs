using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using R2ps.Testing;

namespace R2ps.Store.Tests;

/// <summary>A stand-in for another context (the saga's) that shares the store's database.</summary>
internal sealed class NeighbourContext(DbContextOptions<NeighbourContext> options) : DbContext(options)
{
    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.Entity<NeighbourRow>(e =>
        {
            e.ToTable("neighbour_rows");
            e.HasKey(r => r.Id);
            e.HasIndex(r => r.Name);
        });
}

internal sealed class NeighbourRow
{
    public int Id { get; set; }
    public string Name { get; set; } = "";
}

public abstract class SchemaTests(TestDatabaseProvider provider) : StoreSuite(provider)
{
    private static readonly string[] StoreTables =
    [
        "r2ps_audit", "r2ps_clients", "r2ps_hsm_keys", "r2ps_login_attempts", "r2ps_nonces", "r2ps_opaque_records",
        "r2ps_registration_codes", "r2ps_secrets",
    ];

    private static async Task<List<string>> TablesAsync(TestStore store, CancellationToken ct)
    {
        await using var db = store.OpenContext();
        await db.Database.OpenConnectionAsync(ct);
        await using var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = store.Provider.IsSqlite
            ? "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            : "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name";
        var names = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }

    private protected static NeighbourContext Neighbour(TestStore store)
    {
        var options = new DbContextOptionsBuilder<NeighbourContext>();
        StoreDatabase.Configure(options, new StoreOptions { Provider = store.Provider.Name, ConnectionString = store.ConnectionString });
        return new NeighbourContext(options.Options);
    }

    [Fact]
    public async Task Initialisation_creates_every_store_table()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, _) = await CreateStoreAsync();
        await using var __ = store;

        Assert.Equal(StoreTables, await TablesAsync(store, ct));
    }

    [Fact]
    public async Task Schema_creation_is_idempotent()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, _) = await CreateStoreAsync();
        await using var __ = store;

        await using var db = store.OpenContext();
        Assert.Empty(await RelationalSchema.EnsureTablesCreatedAsync(db, ct));
        Assert.Equal(StoreTables, await TablesAsync(store, ct));
    }

    [Fact]
    public async Task Workers_starting_together_on_a_new_database_all_succeed()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var store = await NewStoreAsync();
        var workers = Enumerable.Range(0, 8).Select(_ => store.BuildWorker()).ToList();

        await Task.WhenAll(workers.Select(w => Task.Run(() => w.InitializeR2psStoreAsync(ct), ct)));

        Assert.Equal(StoreTables, await TablesAsync(store, ct));
        Assert.All(await Task.WhenAll(workers.Select(w => w.GetRequiredService<INonceCache>().TryRecordAsync("c", "n", TestStore.Start, ct))),
            _ => { });
    }

    [Fact]
    public async Task Concurrent_creators_report_each_table_created_once()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var store = await NewStoreAsync();

        var created = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(async () =>
        {
            await using var db = store.OpenContext();
            return await RelationalSchema.EnsureTablesCreatedAsync(db, ct);
        }, ct)));

        Assert.Equal(StoreTables, created.SelectMany(c => c).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Store_tables_are_created_in_a_database_another_context_created_first()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var store = await NewStoreAsync();
        await using (var neighbour = Neighbour(store))
        {
            Assert.True(await neighbour.Database.EnsureCreatedAsync(ct));
        }

        await store.StartWorkerAsync();

        Assert.Equal(["neighbour_rows", .. StoreTables], await TablesAsync(store, ct));
    }

    [Fact]
    public async Task Another_contexts_tables_are_created_in_the_store_database()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, _) = await CreateStoreAsync();
        await using var __ = store;
        await using var neighbour = Neighbour(store);
        // The pitfall this helper exists for: EnsureCreated sees an existing database and creates nothing.
        Assert.False(await neighbour.Database.EnsureCreatedAsync(ct));

        Assert.Equal(["neighbour_rows"], await RelationalSchema.EnsureTablesCreatedAsync(neighbour, ct));

        neighbour.Add(new NeighbourRow { Name = "saga" });
        await neighbour.SaveChangesAsync(ct);
        Assert.Equal(1, await neighbour.Set<NeighbourRow>().CountAsync(ct));
    }

    [Fact]
    public async Task Missing_table_is_recreated_and_existing_ones_are_kept()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync();
        await using var __ = store;
        await worker.GetRequiredService<INonceCache>().TryRecordAsync("wallet-1", "n", TestStore.Start.AddMinutes(1), ct);
        await using (var db = store.OpenContext())
        {
            await db.Database.ExecuteSqlRawAsync("DROP TABLE r2ps_audit", ct);
        }

        await using (var db = store.OpenContext())
        {
            Assert.Equal(["r2ps_audit"], await RelationalSchema.EnsureTablesCreatedAsync(db, ct));
        }

        Assert.False(await worker.GetRequiredService<INonceCache>().TryRecordAsync("wallet-1", "n", TestStore.Start.AddMinutes(1), ct));
    }
}

public sealed class SchemaTestsOnSqlite() : SchemaTests(TestDatabaseProvider.Sqlite);

public sealed class SchemaTestsOnPostgres(PostgreSqlServerFixture server) : SchemaTests(TestDatabaseProvider.Postgres(server));

/// <summary>What only the SQLite provider has: a file in WAL mode with a busy timeout, in a folder created for it.</summary>
public sealed class SqliteSchemaTests
{
    [Fact]
    public async Task Database_runs_in_wal_mode_with_a_busy_timeout()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, _) = await TestStore.CreateAsync(new() { ["Store:SqliteBusyTimeout"] = "00:00:07" });
        await using var __ = store;
        await using var db = store.OpenContext();
        await db.Database.OpenConnectionAsync(ct);
        await using var command = db.Database.GetDbConnection().CreateCommand();

        command.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", await command.ExecuteScalarAsync(ct));
        command.CommandText = "PRAGMA busy_timeout";
        Assert.Equal(2_000L, await command.ExecuteScalarAsync(ct)); // OpenContext uses the default options
        Assert.Equal(2, command.CommandTimeout); // bounds Microsoft.Data.Sqlite's own busy retries (30 s by default)
    }

    [Fact]
    public async Task The_pragmas_run_once_per_physical_connection_and_a_pooled_one_keeps_them()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, _) = await TestStore.CreateAsync();
        await using var __ = store;
        var options = new DbContextOptionsBuilder<R2psStoreDbContext>();
        StoreDatabase.Configure(options, new StoreOptions { ConnectionString = store.ConnectionString, SqliteBusyTimeout = TimeSpan.FromSeconds(3) });

        async Task<(object? Handle, long BusyTimeout)> OpenAsync(string? then = null)
        {
            // One store call at a time: the pool hands the same sqlite3 handle out again (unless it was emptied).
            await using var db = new R2psStoreDbContext(options.Options);
            await db.Database.OpenConnectionAsync(ct);
            var connection = (Microsoft.Data.Sqlite.SqliteConnection)db.Database.GetDbConnection();
            await using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA busy_timeout";
            var busyTimeout = (long)(await command.ExecuteScalarAsync(ct))!;
            if (then is not null)
            {
                command.CommandText = then;
                await command.ExecuteNonQueryAsync(ct);
            }
            return (connection.Handle, busyTimeout);
        }

        // Other tests in this process empty every pool now and then (SqliteConnection.ClearAllPools): a second open may get
        // a new handle. Either way the answer must be right, and the pooled case must be seen at least once.
        var sawPooled = false;
        for (var attempt = 0; attempt < 20 && !sawPooled; attempt++)
        {
            // A new handle (the pool emptied first) is set up on its first open ...
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            var first = await OpenAsync(then: "PRAGMA busy_timeout = 1234");
            Assert.Equal(3_000L, first.BusyTimeout);
            var again = await OpenAsync();
            if (ReferenceEquals(first.Handle, again.Handle))
            {
                // ... and not again when the pool hands it out later: the value changed by hand is still there.
                Assert.Equal(1_234L, again.BusyTimeout);
                sawPooled = true;
            }
            else
            {
                // The pool was emptied in between: the new handle was set up.
                Assert.Equal(3_000L, again.BusyTimeout);
            }
        }

        Assert.True(sawPooled, "A pooled connection was never handed out again in 20 tries.");
    }

    [Fact]
    public async Task Missing_directory_of_the_database_file_is_created()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var store = new TestStore();
        var nested = Path.Combine(store.Directory, "a", "b", "store.db");
        var services = new ServiceCollection();
        services.AddR2psStore(store.Configuration(new() { ["Store:ConnectionString"] = $"Data Source={nested}" }));
        await using var provider = services.BuildServiceProvider();

        await provider.InitializeR2psStoreAsync(ct);

        Assert.True(File.Exists(nested));
    }
}

/// <summary>What the PostgreSQL provider sets on its connections instead: lock_timeout and the command timeout.</summary>
public sealed class PostgresConnectionTests(PostgreSqlServerFixture server)
{
    [Fact]
    public async Task Connections_wait_for_a_lock_no_longer_than_the_busy_timeout()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, _) = await TestStore.CreateAsync(TestDatabaseProvider.Postgres(server), new() { ["Store:SqliteBusyTimeout"] = "00:00:01.500" });
        await using var __ = store;
        var options = new DbContextOptionsBuilder<R2psStoreDbContext>();
        StoreDatabase.Configure(options, new StoreOptions
        {
            Provider = "postgres", ConnectionString = store.ConnectionString, SqliteBusyTimeout = TimeSpan.FromMilliseconds(1500),
        });
        await using var db = new R2psStoreDbContext(options.Options);
        await db.Database.OpenConnectionAsync(ct);
        await using var command = db.Database.GetDbConnection().CreateCommand();

        command.CommandText = "SHOW lock_timeout";
        Assert.Equal("1500ms", await command.ExecuteScalarAsync(ct));
        Assert.Equal(2, command.CommandTimeout);
    }
}
