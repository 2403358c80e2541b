using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using R2ps.Testing;

namespace R2ps.Store.Tests;

/// <summary>
/// A real store database of its own: a SQLite file in a temporary folder, or a database on the assembly's PostgreSQL
/// server. Each <see cref="StartWorkerAsync"/> builds a separate service provider on that database: a separate worker as
/// far as the store can tell (own connections, own context factory).
/// </summary>
internal sealed class TestStore : IAsyncDisposable
{
    private readonly List<ServiceProvider> _workers = [];

    /// <summary>A SQLite store file.</summary>
    public TestStore()
        : this(TestDatabaseProvider.Sqlite, null)
    {
    }

    private TestStore(TestDatabaseProvider provider, string? connectionString)
    {
        Provider = provider;
        Directory = System.IO.Directory.CreateTempSubdirectory("r2ps-store-").FullName;
        DatabasePath = provider.IsSqlite ? Path.Combine(Directory, "store.db") : null;
        ConnectionString = connectionString ?? $"Data Source={DatabasePath}";
    }

    public TestDatabaseProvider Provider { get; }

    public string Directory { get; }

    /// <summary>The SQLite file; null on PostgreSQL.</summary>
    public string? DatabasePath { get; }

    public string ConnectionString { get; }

    /// <summary>Where <see cref="Clock"/> starts.</summary>
    public static DateTimeOffset Start { get; } = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

    /// <summary>A clock the tests move by hand.</summary>
    public FakeTimeProvider Clock { get; } = new(Start);

    /// <summary>A store with nothing in it yet (no tables) on <paramref name="provider"/>.</summary>
    public static async Task<TestStore> NewAsync(TestDatabaseProvider provider)
    {
        ArgumentNullException.ThrowIfNull(provider);
        if (provider.IsSqlite)
        {
            return new TestStore();
        }

        var connectionString = await provider.NewConnectionStringAsync(Path.GetTempPath(), "store", TestContext.Current.CancellationToken);
        return new TestStore(provider, connectionString);
    }

    public static Task<(TestStore Store, ServiceProvider Worker)> CreateAsync(Dictionary<string, string?>? settings = null) =>
        CreateAsync(TestDatabaseProvider.Sqlite, settings);

    public static async Task<(TestStore Store, ServiceProvider Worker)> CreateAsync(
        TestDatabaseProvider provider, Dictionary<string, string?>? settings = null)
    {
        var store = await NewAsync(provider);
        var worker = await store.StartWorkerAsync(settings);
        return (store, worker);
    }

    public IConfiguration Configuration(Dictionary<string, string?>? settings = null)
    {
        var values = new Dictionary<string, string?>
        {
            ["Store:Provider"] = Provider.Name,
            ["Store:ConnectionString"] = ConnectionString,
        };
        foreach (var (key, value) in settings ?? [])
        {
            values[key] = value;
        }

        return new ConfigurationBuilder().AddInMemoryCollection(values).Build();
    }

    public ServiceProvider BuildWorker(Dictionary<string, string?>? settings = null)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<TimeProvider>(Clock);
        services.AddR2psStore(Configuration(settings));
        var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        _workers.Add(provider);
        return provider;
    }

    public async Task<ServiceProvider> StartWorkerAsync(Dictionary<string, string?>? settings = null)
    {
        var provider = BuildWorker(settings);
        await provider.InitializeR2psStoreAsync(TestContext.Current.CancellationToken);
        return provider;
    }

    /// <summary>Raw access for checks the interfaces deliberately do not offer (what is stored, how many rows).</summary>
    public R2psStoreDbContext OpenContext()
    {
        var options = new DbContextOptionsBuilder<R2psStoreDbContext>();
        StoreDatabase.Configure(options, new StoreOptions { Provider = Provider.Name, ConnectionString = ConnectionString });
        return new R2psStoreDbContext(options.Options);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var worker in _workers)
        {
            await worker.DisposeAsync();
        }

        SqliteConnection.ClearAllPools();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // Leave it to the temp cleaner rather than fail a test.
        }
    }
}

/// <summary>
/// The base of every store suite that runs on both providers: a concrete subclass per provider
/// (<c>…OnSqlite</c>, <c>…OnPostgres</c>) says which, and the tests make their stores through it.
/// </summary>
public abstract class StoreSuite
{
    private protected StoreSuite(TestDatabaseProvider provider) => Provider = provider;

    private protected TestDatabaseProvider Provider { get; }

    private protected Task<(TestStore Store, ServiceProvider Worker)> CreateStoreAsync(Dictionary<string, string?>? settings = null) =>
        TestStore.CreateAsync(Provider, settings);

    private protected Task<TestStore> NewStoreAsync() => TestStore.NewAsync(Provider);
}
