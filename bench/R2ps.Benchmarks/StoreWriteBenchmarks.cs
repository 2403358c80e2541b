using System.Globalization;
using BenchmarkDotNet.Attributes;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using R2ps.Store;

namespace R2ps.Benchmarks;

/// <summary>
/// The two writes every request makes (its nonce, its audit row) on a SQLite file, <see cref="Concurrency"/> requests
/// at a time, with group commit on and off (<c>Store:BatchWrites</c>). One operation = one request's nonce + audit row:
/// as two writes (a request that changes state: nonce before its handler, audit row after) or as one
/// (<see cref="IRequestLedger"/>: a read-only request's nonce and audit row in one commit).
/// </summary>
[MemoryDiagnoser]
public class StoreWriteBenchmarks
{
    private const int RequestsPerInvocation = 256;

    private string _directory = null!;
    private ServiceProvider _services = null!;
    private INonceCache _nonces = null!;
    private IAuditLog _audit = null!;
    private IRequestLedger _ledger = null!;
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
        _ledger = _services.GetRequiredService<IRequestLedger>();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _services.DisposeAsync().AsTask().GetAwaiter().GetResult();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = RequestsPerInvocation)]
    public Task NonceAndAuditPerRequest() => RunAsync(async n =>
    {
        if (!await _nonces.TryRecordAsync("bench-client", n, DateTimeOffset.UtcNow.AddMinutes(1), CancellationToken.None).ConfigureAwait(false))
            throw new InvalidOperationException("A fresh nonce was refused.");
        await _audit.AppendAsync(Entry(AuditOutcome.Success), CancellationToken.None).ConfigureAwait(false);
    });

    [Benchmark(OperationsPerInvoke = RequestsPerInvocation)]
    public Task NonceAndAuditInOneCommit() => RunAsync(async n =>
    {
        if (!await _ledger.RecordNonceAndAuditAsync("bench-client", n, DateTimeOffset.UtcNow.AddMinutes(1), Entry(AuditOutcome.Success),
                Entry(AuditOutcome.Failure), CancellationToken.None).ConfigureAwait(false))
            throw new InvalidOperationException("A fresh nonce was refused.");
    });

    private static AuditEntry Entry(AuditOutcome outcome) => new(DateTimeOffset.UtcNow, "bench", "hsm_ecdsa", "bench-client", "kid", "hsm", outcome);

    private async Task RunAsync(Func<string, Task> request)
    {
        var perLoop = RequestsPerInvocation / Concurrency;
        await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < perLoop; i++)
                await request(Interlocked.Increment(ref _sequence).ToString("x64", CultureInfo.InvariantCulture)).ConfigureAwait(false);
        }))).ConfigureAwait(false);
    }
}
