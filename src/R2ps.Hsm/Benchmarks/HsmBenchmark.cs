using System.Diagnostics;
using System.Security.Cryptography;
using R2ps.Crypto.Ec;

namespace R2ps.Hsm.Benchmarks;

/// <summary>Operations per second measured by <see cref="HsmBenchmark"/>, with the ratios that matter.</summary>
public sealed record HsmBenchmarkResult(
    double SignsPerSecondOneThread,
    double SignsPerSecondTwoThreads,
    double EcdhPerSecond,
    double KeyGenerationsPerSecond,
    double DotNetSignsPerSecond)
{
    /// <summary>Two threads over one thread: how well the module and the pool scale.</summary>
    public double TwoThreadScaling => SignsPerSecondTwoThreads / SignsPerSecondOneThread;

    /// <summary>HSM signing (one thread) relative to .NET's in-process ECDsa: the cost of the PKCS#11 path.</summary>
    public double HsmToDotNetSignRatio => SignsPerSecondOneThread / DotNetSignsPerSecond;

    public double EcdhToSignRatio => EcdhPerSecond / SignsPerSecondOneThread;
}

/// <summary>
/// Throughput of the HSM path for <c>r2ps bench hsm</c>: P-256 signs through the binding with 1 and 2 threads, ECDH,
/// key generation, and .NET's in-process ECDsa P-256 signing in the same run for comparison. Uses the configured
/// token with a throw-away owner and deletes the keys it made.
/// </summary>
public static class HsmBenchmark
{
    private const string BenchmarkOwner = "r2ps-benchmark";

    /// <param name="options">The token to measure.</param>
    /// <param name="duration">Time spent on each of the five measurements.</param>
    /// <param name="progress">Receives one line per finished measurement.</param>
    /// <param name="cancellationToken">Stops between measurements.</param>
    public static Task<HsmBenchmarkResult> RunAsync(HsmOptions options, TimeSpan duration, IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (duration <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(duration), "The duration must be positive.");
        // PKCS#11 calls block their thread: run the whole benchmark off the caller's.
        return Task.Run(() => Run(options, duration, progress, cancellationToken), cancellationToken);
    }

    private static HsmBenchmarkResult Run(HsmOptions options, TimeSpan duration, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        using var connection = HsmConnection.Open(options);
        var keys = new HsmKeyService(connection);
        var created = new List<string>();
        try
        {
            var key = keys.GenerateKey(BenchmarkOwner, EcCurve.P256);
            created.Add(key.Kid);
            var hash = SHA256.HashData("r2ps benchmark"u8);

            var one = Measure(duration, 1, () => keys.SignHash(BenchmarkOwner, key.Kid, hash));
            progress?.Report($"HSM P-256 sign, 1 thread: {one:N0}/s");
            cancellationToken.ThrowIfCancellationRequested();

            var two = Measure(duration, 2, () => keys.SignHash(BenchmarkOwner, key.Kid, hash));
            progress?.Report($"HSM P-256 sign, 2 threads: {two:N0}/s");
            cancellationToken.ThrowIfCancellationRequested();

            using var peer = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
            var peerSpki = peer.ExportSubjectPublicKeyInfo();
            var ecdh = Measure(duration, 1, () => CryptographicOperations.ZeroMemory(keys.DeriveSharedSecret(BenchmarkOwner, key.Kid, peerSpki)));
            progress?.Report($"HSM P-256 ECDH: {ecdh:N0}/s");
            cancellationToken.ThrowIfCancellationRequested();

            var generations = Measure(duration, 1, () =>
            {
                var generated = keys.GenerateKey(BenchmarkOwner, EcCurve.P256);
                lock (created) created.Add(generated.Kid);
            });
            progress?.Report($"HSM P-256 key generation: {generations:N1}/s");
            cancellationToken.ThrowIfCancellationRequested();

            using var software = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var dotNet = Measure(duration, 1, () => software.SignHash(hash));
            progress?.Report($".NET ECDsa P-256 sign (in process): {dotNet:N0}/s");

            return new HsmBenchmarkResult(one, two, ecdh, generations, dotNet);
        }
        finally
        {
            foreach (var kid in created) keys.DeleteKey(BenchmarkOwner, kid);
        }
    }

    /// <summary>Runs <paramref name="operation"/> on <paramref name="threads"/> threads for <paramref name="duration"/>; operations per second.</summary>
    private static double Measure(TimeSpan duration, int threads, Action operation)
    {
        operation(); // warm-up: JIT, session creation, handle cache
        long total = 0;
        var stopwatch = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, threads).Select(_ => new Thread(() =>
        {
            long count = 0;
            while (stopwatch.Elapsed < duration)
            {
                operation();
                count++;
            }
            Interlocked.Add(ref total, count);
        })).ToList();
        foreach (var worker in workers) worker.Start();
        foreach (var worker in workers) worker.Join();
        return total / stopwatch.Elapsed.TotalSeconds;
    }
}
