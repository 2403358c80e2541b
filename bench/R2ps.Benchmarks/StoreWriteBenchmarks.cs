using System.Globalization;
using BenchmarkDotNet.Attributes;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using R2ps.Store;

namespace R2ps.Benchmarks;

/// <summary>
/// The two writes every request makes (its nonce, its audit row) on a SQLite file, <see cref="Concurrency"/> requests
/// at a time, with group commit on and off (<c>Store:BatchWrites</c>). One operation = one request's nonce + audit row.
/// </summary>
[MemoryDiagnoser]
public class StoreWriteBenchmarks
{
    private const int RequestsPerInvocation = 256;

    private string _directory = null!;
    private ServiceProvider _services = null!;
    private INonceCache _nonces = null!;
    private IAuditLog _audit = null!;
    private long _sequence;

    [Params(false, true)]
    public bool BatchWrites { get; set; }

    [Params(1, 32)]
    public int Concurrency { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _directory = Directory.CreateTempSubdirectory("r2ps-bench-store-").FullName;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Store:ConnectionString"] = $"Data Source={Path.Combine(_directory, "store.db")}",
            ["Store:BatchWrites"] = BatchWrites.ToString(CultureInfo.InvariantCulture),
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddR2psStore(configuration);
        _services = services.BuildServiceProvider();
        _services.InitializeR2psStoreAsync().GetAwaiter().GetResult();
        _nonces = _services.GetRequiredService<INonceCache>();
        _audit = _services.GetRequiredService<IAuditLog>();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _services.DisposeAsync().AsTask().GetAwaiter().GetResult();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(OperationsPerInvoke = RequestsPerInvocation)]
    public async Task NonceAndAuditPerRequest()
    {
        var perLoop = RequestsPerInvocation / Concurrency;
        await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < perLoop; i++)
            {
                var n = Interlocked.Increment(ref _sequence).ToString("x64", CultureInfo.InvariantCulture);
                if (!await _nonces.TryRecordAsync("bench-client", n, DateTimeOffset.UtcNow.AddMinutes(1), CancellationToken.None).ConfigureAwait(false))
                    throw new InvalidOperationException("A fresh nonce was refused.");
                await _audit.AppendAsync(new AuditEntry(DateTimeOffset.UtcNow, "bench", "hsm_ecdsa", "bench-client", "kid", "hsm", AuditOutcome.Success),
                    CancellationToken.None).ConfigureAwait(false);
            }
        }))).ConfigureAwait(false);
    }
}
