using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace R2ps.Store.Tests;

/// <summary>
/// A real SQLite store file in a temporary folder. Each <see cref="StartWorkerAsync"/> builds a separate service provider
/// on that file: a separate worker as far as the store can tell (own connections, own context factory).
/// </summary>
internal sealed class TestStore : IAsyncDisposable
{
    private readonly List<ServiceProvider> _workers = [];

    public TestStore()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("r2ps-store-").FullName;
        DatabasePath = Path.Combine(Directory, "store.db");
    }

    public string Directory { get; }

    public string DatabasePath { get; }

    public string ConnectionString => $"Data Source={DatabasePath}";

    /// <summary>Where <see cref="Clock"/> starts.</summary>
    public static DateTimeOffset Start { get; } = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

    /// <summary>A clock the tests move by hand.</summary>
    public FakeTimeProvider Clock { get; } = new(Start);

    public static async Task<(TestStore Store, ServiceProvider Worker)> CreateAsync(Dictionary<string, string?>? settings = null)
    {
        var store = new TestStore();
        var worker = await store.StartWorkerAsync(settings);
        return (store, worker);
    }

    public IConfiguration Configuration(Dictionary<string, string?>? settings = null)
    {
        var values = new Dictionary<string, string?>
        {
            ["Store:Provider"] = "sqlite",
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
        StoreDatabase.Configure(options, new StoreOptions { ConnectionString = ConnectionString });
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
