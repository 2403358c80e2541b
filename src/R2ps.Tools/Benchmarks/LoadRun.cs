using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using R2ps.Crypto.Ec;
using R2ps.Protocol;
using R2ps.Protocol.Envelopes;
using R2ps.Wallet;

namespace R2ps.Tools.Benchmarks;

/// <summary>
/// One wallet of the load: registered, PIN set, owning one P-256 HSM key (<see cref="Kid"/>). Disposing it disposes what
/// it was given (device, transport).
/// </summary>
internal sealed class BenchWallet : IDisposable
{
    private readonly IDisposable[] _owned;

    private BenchWallet(R2psWallet wallet, string pin, string kid, IDisposable[] owned)
    {
        Wallet = wallet;
        Pin = pin;
        Kid = kid;
        _owned = owned;
    }

    public R2psWallet Wallet { get; }

    public string Pin { get; }

    public string Kid { get; }

    /// <summary>
    /// Sets the PIN with the one-time code, logs in, creates the P-256 key and signs once (so both paths are warm before
    /// anything is timed), then closes that session.
    /// </summary>
    public static async Task<BenchWallet> PrepareAsync(R2psWallet wallet, string registrationCode, IDisposable[] owned, CancellationToken cancellationToken)
    {
        var pin = RandomNumberGenerator.GetInt32(0, 1_000_000).ToString("D6", CultureInfo.InvariantCulture);
        await wallet.RegisterPinAsync(pin, registrationCode, cancellationToken).ConfigureAwait(false);
        using var session = await wallet.LoginAsync(pin, cancellationToken: cancellationToken).ConfigureAwait(false);
        var curve = await session.GenerateKeyAsync(EcCurve.P256, cancellationToken).ConfigureAwait(false);
        var keys = await session.ListKeysAsync([EcCurve.P256], cancellationToken).ConfigureAwait(false);
        var kid = keys.Count == 1 && curve == EcCurve.P256.Name
            ? keys[0].Kid
            : throw new InvalidOperationException($"The wallet should own exactly one P-256 key after set-up, it lists {keys.Count}.");
        await session.SignAsync(kid, SHA256.HashData("warm-up"u8), cancellationToken).ConfigureAwait(false);
        await session.CloseAsync(cancellationToken).ConfigureAwait(false);
        return new BenchWallet(wallet, pin, kid, owned);
    }

    public void Dispose()
    {
        foreach (var owned in _owned) owned.Dispose();
    }
}

/// <summary>Latency of one operation type: count and percentiles in milliseconds (nearest rank).</summary>
public sealed record LatencySummary(long Count, double P50Ms, double P95Ms, double P99Ms, double MaxMs)
{
    public static LatencySummary From(List<long> ticks)
    {
        if (ticks.Count == 0) return new LatencySummary(0, 0, 0, 0, 0);
        ticks.Sort();
        return new LatencySummary(ticks.Count, Ms(Rank(0.50)), Ms(Rank(0.95)), Ms(Rank(0.99)), Ms(ticks[^1]));

        long Rank(double p) => ticks[Math.Clamp((int)Math.Ceiling(p * ticks.Count) - 1, 0, ticks.Count - 1)];
        static double Ms(long t) => t * 1000.0 / Stopwatch.Frequency;
    }
}

/// <summary>What one load run measured: per operation type (<see cref="LoadRun.Operations"/>) and errors by code.</summary>
/// <param name="Cpu">CPU time used during the timed part, by process group (in-process: this process; e2e: the workers, and
/// this process = BFF + wallets): on a shared machine CPU per operation is steadier than a rate.</param>
/// <param name="AllocatedBytes">Bytes this process allocated on the managed heap during the timed part (in-process: the
/// service core and the wallets; e2e: the BFF and the wallets): unlike time, it does not move with the machine's load.</param>
public sealed record LoadResult(TimeSpan Elapsed, IReadOnlyDictionary<string, LatencySummary> Operations, IReadOnlyDictionary<string, long> Errors,
    IReadOnlyDictionary<string, TimeSpan>? Cpu = null, long? AllocatedBytes = null)
{
    /// <summary>KiB this process allocated per <paramref name="operation"/> (the whole workload's, logins included); 0 when not measured.</summary>
    public double KibAllocatedPer(string operation) =>
        AllocatedBytes is { } bytes && Count(operation) is > 0 and var n ? bytes / 1024.0 / n : 0;

    /// <summary>CPU milliseconds of <paramref name="group"/> per <paramref name="operation"/> (the whole workload's CPU, logins included).</summary>
    public double CpuMsPer(string group, string operation) =>
        Cpu is not null && Cpu.TryGetValue(group, out var cpu) && Count(operation) is > 0 and var n ? cpu.TotalMilliseconds / n : 0;

    public long Count(string operation) => Operations.TryGetValue(operation, out var s) ? s.Count : 0;

    public double PerSecond(string operation) => Elapsed > TimeSpan.Zero ? Count(operation) / Elapsed.TotalSeconds : 0;

    public long ErrorCount => Errors.Values.Sum();
}

/// <summary>
/// The workload: every wallet loops on its own — log in, sign <c>signsPerLogin</c> hashes in that session, end the
/// session, log in again — until the time is up. Operations are not cancelled at the deadline (each is bounded by its
/// transport's timeout); the loops stop taking new ones, and the rate is the count over the time until the last one ended.
/// </summary>
public static class LoadRun
{
    public const string Login = "login";
    public const string Sign = "sign";
    public const string SessionEnd = "session_end";
    public static readonly IReadOnlyList<string> Operations = [Login, Sign, SessionEnd];

    /// <summary>A hard cap per wallet, so no loop is unbounded even on a clock that misbehaves.</summary>
    private const int MaxOperationsPerWallet = 2_000_000;

    /// <summary>After this many failures in a row a wallet gives up (a dead cluster must not spin for the whole run).</summary>
    private const int MaxConsecutiveErrors = 50;

    private static readonly TimeSpan ErrorBackoff = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(1);

    internal static async Task<LoadResult> RunAsync(IReadOnlyList<BenchWallet> wallets, TimeSpan duration, int signsPerLogin, string label,
        Action<string> progress, CancellationToken cancellationToken, Func<IReadOnlyDictionary<string, TimeSpan>>? cpuProbe = null)
    {
        var cpuBefore = cpuProbe?.Invoke();
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var counters = new Counters();
        var errors = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        var start = Stopwatch.GetTimestamp();
        var deadline = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        using var progressStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var reporter = ReportAsync(counters, start, label, progress, progressStop.Token);
        var loops = wallets.Select(w => Task.Run(() => LoopAsync(w, deadline, signsPerLogin, counters, errors, cancellationToken), cancellationToken)).ToArray();
        var recorded = await Task.WhenAll(loops).ConfigureAwait(false);
        var elapsed = Stopwatch.GetElapsedTime(start);
        var cpuAfter = cpuProbe?.Invoke();
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        await progressStop.CancelAsync().ConfigureAwait(false);
        await reporter.ConfigureAwait(false);

        var summaries = Operations.ToDictionary(op => op, op => LatencySummary.From([.. recorded.SelectMany(r => r[op])]), StringComparer.Ordinal);
        var cpu = cpuBefore is null || cpuAfter is null
            ? null
            : cpuAfter.ToDictionary(c => c.Key, c => c.Value - cpuBefore.GetValueOrDefault(c.Key), StringComparer.Ordinal);
        return new LoadResult(elapsed, summaries, new SortedDictionary<string, long>(errors, StringComparer.Ordinal), cpu, allocated);
    }

    private static async Task<Dictionary<string, List<long>>> LoopAsync(BenchWallet wallet, long deadline, int signsPerLogin, Counters counters,
        ConcurrentDictionary<string, long> errors, CancellationToken cancellationToken)
    {
        var ticks = Operations.ToDictionary(op => op, _ => new List<long>(), StringComparer.Ordinal);
        var hash = SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(wallet.Wallet.Device.ClientId));
        SignSession? session = null;
        var signsInSession = 0;
        var consecutiveErrors = 0;
        try
        {
            for (var operations = 0; operations < MaxOperationsPerWallet && Stopwatch.GetTimestamp() < deadline; operations++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                try
                {
                    if (session is not null && signsInSession >= signsPerLogin)
                    {
                        var closing = session;
                        session = null;
                        using (closing)
                            await Timed(ticks[SessionEnd], () => closing.CloseAsync(cancellationToken)).ConfigureAwait(false);
                        continue;
                    }

                    if (session is null)
                    {
                        var began = Stopwatch.GetTimestamp();
                        session = await wallet.Wallet.LoginAsync(wallet.Pin, cancellationToken: cancellationToken).ConfigureAwait(false);
                        ticks[Login].Add(Stopwatch.GetTimestamp() - began);
                        Interlocked.Increment(ref counters.Logins);
                        signsInSession = 0;
                        continue;
                    }

                    await Timed(ticks[Sign], () => session.SignAsync(wallet.Kid, hash, cancellationToken)).ConfigureAwait(false);
                    Interlocked.Increment(ref counters.Signs);
                    signsInSession++;
                    consecutiveErrors = 0;
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    throw;
                }
#pragma warning disable CA1031 // Any failure of one operation is counted by kind and the wallet carries on with a fresh login.
                catch (Exception e)
#pragma warning restore CA1031
                {
                    errors.AddOrUpdate(ErrorKind(e), 1, (_, n) => n + 1);
                    Interlocked.Increment(ref counters.Errors);
                    session?.Dispose();
                    session = null;
                    if (++consecutiveErrors >= MaxConsecutiveErrors)
                    {
                        errors.AddOrUpdate("WALLET_GAVE_UP", 1, (_, n) => n + 1);
                        break;
                    }

                    await Task.Delay(ErrorBackoff, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            if (session is not null)
            {
                // Not timed: leave no session open behind the run.
                try
                {
                    using var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                    await session.CloseAsync(bounded.Token).ConfigureAwait(false);
                }
#pragma warning disable CA1031 // Best effort: the session expires by itself anyway.
                catch (Exception)
#pragma warning restore CA1031
                {
                }

                session.Dispose();
            }
        }

        return ticks;
    }

    private static async Task Timed(List<long> into, Func<Task> operation)
    {
        var began = Stopwatch.GetTimestamp();
        await operation().ConfigureAwait(false);
        into.Add(Stopwatch.GetTimestamp() - began);
    }

    /// <summary>The error's R2PS code when the service answered one, else what kind of failure it was.</summary>
    private static string ErrorKind(Exception e) => e switch
    {
        R2psClientException r => r.Code.ToWire(),
        ClientEnvelopeException => "BAD_RESPONSE_ENVELOPE",
        TaskCanceledException or TimeoutException => "CLIENT_TIMEOUT",
        HttpRequestException => "HTTP_FAILURE",
        _ => e.GetType().Name,
    };

    private static async Task ReportAsync(Counters counters, long start, string label,
        Action<string> progress, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(ProgressInterval);
        long lastSigns = 0;
        var lastTime = start;
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                var now = Stopwatch.GetTimestamp();
                var signs = Interlocked.Read(ref counters.Signs);
                var rate = (signs - lastSigns) / Stopwatch.GetElapsedTime(lastTime, now).TotalSeconds;
                progress(string.Create(CultureInfo.InvariantCulture,
                    $"{label} {Stopwatch.GetElapsedTime(start, now).TotalSeconds:0} s: {signs:N0} signs ({rate:N0}/s now), {Interlocked.Read(ref counters.Logins):N0} logins, {Interlocked.Read(ref counters.Errors):N0} errors"));
                lastSigns = signs;
                lastTime = now;
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The run ended.
        }
    }

    private sealed class Counters
    {
        public long Signs;
        public long Logins;
        public long Errors;
    }
}
