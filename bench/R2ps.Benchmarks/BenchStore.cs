using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using R2ps.Store;

namespace R2ps.Benchmarks;

/// <summary>The store on a throw-away SQLite file with the given <c>Store:*</c> settings, for the store benchmarks.</summary>
internal sealed class BenchStore : IDisposable
{
    private readonly string _directory;
    private readonly ServiceProvider _services;

    public BenchStore(string prefix, IReadOnlyDictionary<string, string?> settings)
    {
        _directory = Directory.CreateTempSubdirectory(prefix).FullName;
        var values = new Dictionary<string, string?>(settings) { ["Store:ConnectionString"] = $"Data Source={Path.Combine(_directory, "store.db")}" };
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddR2psStore(new ConfigurationBuilder().AddInMemoryCollection(values).Build());
        _services = services.BuildServiceProvider();
        _services.InitializeR2psStoreAsync().GetAwaiter().GetResult();
    }

    public T Get<T>() where T : notnull => _services.GetRequiredService<T>();

    public void Dispose()
    {
        _services.DisposeAsync().AsTask().GetAwaiter().GetResult();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
