using System.Diagnostics;
using System.Security.Cryptography;
using R2ps.Crypto.Ec;
using R2ps.Hsm;

namespace R2ps.Tools.Benchmarks;

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
/// Throughput of the HSM path for <c>r2ps bench hsm</c>: P-256 signs through the key service on 1 and 2 threads, ECDH,
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
    public static async Task<HsmBenchmarkResult> RunAsync(HsmOptions options, TimeSpan duration, IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (duration <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(duration), "The duration must be positive.");
        using var connection = HsmConnection.Open(options);
        var keys = new HsmKeyService(connection);
        var created = new List<string>();
        try
        {
            var key = await keys.GenerateKeyAsync(BenchmarkOwner, EcCurve.P256, cancellationToken).ConfigureAwait(false);
            created.Add(key.Kid);
            var hash = SHA256.HashData("r2ps benchmark"u8);

            var one = await MeasureAsync(duration, 1, () => keys.SignHashAsync(BenchmarkOwner, key.Kid, hash)).ConfigureAwait(false);
            progress?.Report($"HSM P-256 sign, 1 thread: {one:N0}/s");
            cancellationToken.ThrowIfCancellationRequested();

            var two = await MeasureAsync(duration, 2, () => keys.SignHashAsync(BenchmarkOwner, key.Kid, hash)).ConfigureAwait(false);
            progress?.Report($"HSM P-256 sign, 2 threads: {two:N0}/s");
            cancellationToken.ThrowIfCancellationRequested();

            using var peer = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
            var peerSpki = peer.ExportSubjectPublicKeyInfo();
            var ecdh = await MeasureAsync(duration, 1, async () => CryptographicOperations.ZeroMemory(await keys.DeriveSharedSecretAsync(BenchmarkOwner, key.Kid, peerSpki).ConfigureAwait(false))).ConfigureAwait(false);
            progress?.Report($"HSM P-256 ECDH: {ecdh:N0}/s");
            cancellationToken.ThrowIfCancellationRequested();

            var generations = await MeasureAsync(duration, 1, async () =>
            {
                var generated = await keys.GenerateKeyAsync(BenchmarkOwner, EcCurve.P256).ConfigureAwait(false);
                lock (created) created.Add(generated.Kid);
            }).ConfigureAwait(false);
            progress?.Report($"HSM P-256 key generation: {generations:N1}/s");
            cancellationToken.ThrowIfCancellationRequested();

            using var software = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var dotNet = await MeasureAsync(duration, 1, () => Task.FromResult(software.SignHash(hash))).ConfigureAwait(false);
            progress?.Report($".NET ECDsa P-256 sign (in process): {dotNet:N0}/s");

            return new HsmBenchmarkResult(one, two, ecdh, generations, dotNet);
        }
        finally
        {
            foreach (var kid in created) await keys.DeleteKeyAsync(BenchmarkOwner, kid, CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>Runs <paramref name="operation"/> in <paramref name="callers"/> loops at once for <paramref name="duration"/>; operations per second.</summary>
    private static async Task<double> MeasureAsync(TimeSpan duration, int callers, Func<Task> operation)
    {
        await operation().ConfigureAwait(false); // warm-up: JIT, session creation, handle cache
        long total = 0;
        var stopwatch = Stopwatch.StartNew();
        // Each loop on a pool thread of its own: the PKCS#11 call itself runs synchronously on whoever got the session.
        var loops = Enumerable.Range(0, callers).Select(_ => Task.Run(async () =>
        {
            long count = 0;
            while (stopwatch.Elapsed < duration)
            {
                await operation().ConfigureAwait(false);
                count++;
            }
            Interlocked.Add(ref total, count);
        })).ToList();
        await Task.WhenAll(loops).ConfigureAwait(false);
        return total / stopwatch.Elapsed.TotalSeconds;
    }
}
