using System.Globalization;
using BenchmarkDotNet.Attributes;
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

    private BenchStore _store = null!;
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
        _store = new BenchStore("r2ps-bench-store-", new Dictionary<string, string?> { ["Store:BatchWrites"] = BatchWrites.ToString(CultureInfo.InvariantCulture) });
        _nonces = _store.Get<INonceCache>();
        _audit = _store.Get<IAuditLog>();
        _ledger = _store.Get<IRequestLedger>();
    }

    [GlobalCleanup]
    public void Cleanup() => _store.Dispose();

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
