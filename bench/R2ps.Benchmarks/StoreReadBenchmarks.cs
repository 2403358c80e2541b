using System.Globalization;
using BenchmarkDotNet.Attributes;
using R2ps.Store;

namespace R2ps.Benchmarks;

/// <summary>
/// The read every request makes before its signature is checked (the device's registration) on a SQLite file,
/// <see cref="Concurrency"/> requests at a time, through EF Core (a pooled DbContext, a compiled query, a pooled connection
/// opened and closed) and through a statement compiled once and kept on open connections (<c>Store:PreparedReads</c>).
/// </summary>
[MemoryDiagnoser]
public class StoreReadBenchmarks
{
    private const int ReadsPerInvocation = 256;
    private const int Clients = 64;

    private BenchStore _store = null!;
    private IClientRegistry _registry = null!;
    private long _sequence;

    [Params(false, true)]
    public bool PreparedReads { get; set; }

    [Params(1, 32)]
    public int Concurrency { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _store = new BenchStore("r2ps-bench-read-", new Dictionary<string, string?> { ["Store:PreparedReads"] = PreparedReads.ToString(CultureInfo.InvariantCulture) });
        _registry = _store.Get<IClientRegistry>();
        var spki = Convert.FromHexString(
            "3059301306072a8648ce3d020106082a8648ce3d030107034200046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c2964fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5");
        for (var i = 0; i < Clients; i++)
            _registry.RegisterAsync(new ClientRegistration($"bench-{i}", "kid", spki, ["hsm"]), CancellationToken.None).GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup() => _store.Dispose();

    [Benchmark(OperationsPerInvoke = ReadsPerInvocation)]
    public async Task FindRegistration()
    {
        var perLoop = ReadsPerInvocation / Concurrency;
        await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < perLoop; i++)
            {
                var client = $"bench-{Interlocked.Increment(ref _sequence) % Clients}";
                if (await _registry.FindAsync(client, "kid", CancellationToken.None).ConfigureAwait(false) is null)
                    throw new InvalidOperationException("A registered client was not found.");
            }
        }))).ConfigureAwait(false);
    }
}
