using System.Globalization;
using R2ps.Hsm;
using R2ps.Tools.SoftHsm;

namespace R2ps.Tools.Benchmarks;

/// <summary>What <c>r2ps bench e2e</c> runs.</summary>
/// <param name="Wallets">Concurrent wallets, each with its own device, PIN, session and HSM key.</param>
/// <param name="Workers">Worker processes competing on the request queue.</param>
/// <param name="Duration">Timed part of each of the two measurements.</param>
/// <param name="SignsPerLogin">Signs in one session before the wallet ends it and logs in again.</param>
/// <param name="RabbitMq">A broker to use; null starts a private node for the run.</param>
/// <param name="Breakdown">Listen to the spans and store timings of this process during the in-process run (the service core) and the
/// end-to-end run (the wallets and the BFF) and report where their time went.</param>
public sealed record E2eSettings(int Wallets, int Workers, TimeSpan Duration, int SignsPerLogin, Uri? RabbitMq, bool Breakdown = false)
{
    /// <summary>
    /// Untimed load before each timed run (in-process and end to end), with the same wallets: the processes have just
    /// started, so without it the timed window also pays for JIT compilation and tiering of the request path (a large
    /// part of a fresh worker's CPU in a 10 s run), which a long-running worker does not. Zero = none (the default).
    /// </summary>
    public TimeSpan Warmup { get; init; } = TimeSpan.Zero;
}

/// <summary>The four measurements of one run (in process, end to end, the two echoes) and the machine they ran on.</summary>
/// <param name="Echo">Bare MassTransit request/reply on the same broker, <see cref="E2eSettings.Wallets"/> in flight.</param>
/// <param name="InProcessBreakdown">Per span and store call of the in-process run, when asked for; else null.</param>
/// <param name="EndToEndBreakdown">Per span of this process (wallets and BFF) in the end-to-end run, when asked for; else null.</param>
/// <param name="QuorumEcho">The same echo on a durable quorum queue, the request queue's kind.</param>
public sealed record E2eResult(E2eSettings Settings, string Broker, LoadResult EndToEnd, LoadResult InProcess, LoadResult Echo, int ProcessorCount,
    double? LoadAverageAtStart, IReadOnlyList<HopTiming>? InProcessBreakdown = null, LoadResult? QuorumEcho = null,
    IReadOnlyList<HopTiming>? EndToEndBreakdown = null)
{
    /// <summary>End-to-end signs/s ÷ in-process signs/s: what HTTP, device sessions, the broker and the process hops cost.</summary>
    public double SignRatio => InProcess.PerSecond(LoadRun.Sign) is > 0 and var baseline ? EndToEnd.PerSecond(LoadRun.Sign) / baseline : 0;

    /// <summary>End-to-end signs/s ÷ bare echo round trips/s on the same broker (issue 9's goal: ≥ 0.6).</summary>
    public double EchoRatio => Echo.PerSecond(EchoBaseline.Echo) is > 0 and var echo ? EndToEnd.PerSecond(LoadRun.Sign) / echo : 0;

    /// <summary>End-to-end signs/s ÷ quorum-queue echo round trips/s: the gap left once the request queue's durability is paid.</summary>
    public double QuorumEchoRatio => QuorumEcho?.PerSecond(EchoBaseline.Echo) is > 0 and var echo ? EndToEnd.PerSecond(LoadRun.Sign) / echo : 0;
}

/// <summary>
/// <c>r2ps bench e2e</c>: first the in-process baseline (service core called directly, same HSM and SQLite kind), then the
/// same workload end to end (HTTP → BFF → RabbitMQ → worker processes), then bare MassTransit request/reply on that broker
/// (a transient queue, then a quorum queue). Everything lives in a temporary folder (SoftHSM2
/// tokens, SQLite files, PIN file) that is deleted at the end; every process started is stopped.
/// </summary>
public static class E2eBenchmark
{
    /// <summary>CPU group: this process (in process: service core and wallets; end to end: the BFF and the wallets).</summary>
    public const string CpuThisProcess = "this_process";

    /// <summary>CPU group: the worker processes together.</summary>
    public const string CpuWorkers = "workers";

    private static TimeSpan ThisProcessCpu()
    {
        using var self = System.Diagnostics.Process.GetCurrentProcess();
        return self.TotalProcessorTime;
    }

    /// <summary>HSM sessions per process (workers and baseline alike); modest for a small machine.</summary>
    public const int HsmSessions = 4;

    public static async Task<E2eResult> RunAsync(E2eSettings settings, Action<string> progress, CancellationToken cancellationToken)
    {
        var loadAverage = ReadLoadAverage();
        using var folder = await ThrowAwaySoftHsm.CreateAsync("r2ps-bench-e2e-", cancellationToken).ConfigureAwait(false);
        progress($"Creating throw-away SoftHSM2 tokens in {folder.Directory}");
        var baselineToken = folder.CreateToken("r2ps-bench-inproc");
        var clusterToken = folder.CreateToken("r2ps-bench");

        LoadResult inProcess;
        IReadOnlyList<HopTiming>? breakdown = null;
        IReadOnlyList<HopTiming>? endToEndBreakdown = null;
        progress("In-process baseline: starting the service core (in-memory bus, SQLite, SoftHSM2)");
        using (var hops = settings.Breakdown ? new HopBreakdown(HopBreakdown.InProcessSources) : null)
        {
            var target = await InProcessTarget.StartAsync(baselineToken, folder.UserPinFile, Path.Combine(folder.Directory, "in-process.db"), HsmSessions, cancellationToken)
                .ConfigureAwait(false);
            await using (target.ConfigureAwait(false))
            {
                inProcess = await MeasureAsync(settings, "in-process", target.CreateWalletAsync, progress, cancellationToken, () => hops?.Reset(),
                        () => new Dictionary<string, TimeSpan>(StringComparer.Ordinal) { [CpuThisProcess] = ThisProcessCpu() })
                    .ConfigureAwait(false);
                breakdown = hops?.Snapshot();
            }
        }

        LoadResult endToEnd;
        LoadResult echo;
        LoadResult quorumEcho;
        string broker;
        var cluster = await E2eCluster.StartAsync(settings.RabbitMq, settings.Workers, folder, clusterToken, HsmSessions,
            progress, cancellationToken).ConfigureAwait(false);
        await using (cluster.ConfigureAwait(false))
        {
            broker = cluster.BrokerDescription;
            // Detached before the echo runs, whose MassTransit spans are not the request path's.
            using (var hops = settings.Breakdown ? new HopBreakdown(HopBreakdown.BffSideSources, nameSources: true) : null)
            {
                endToEnd = await MeasureAsync(settings, "e2e", cluster.CreateWalletAsync, progress, cancellationToken, () => hops?.Reset(),
                    () => new Dictionary<string, TimeSpan>(StringComparer.Ordinal) { [CpuWorkers] = cluster.WorkersCpu(), [CpuThisProcess] = ThisProcessCpu() })
                    .ConfigureAwait(false);
                endToEndBreakdown = hops?.Snapshot();
            }
            if (cluster.DeadWorkerReport() is { } dead) throw new InvalidOperationException(dead);
            // A 500 is a worker's fault; its log is the only place that says which (the run itself only counts codes).
            if (endToEnd.Errors.ContainsKey("SERVER_ERROR") && cluster.WorkerFaultReport() is { Length: > 0 } faults)
                progress("e2e was answered SERVER_ERROR; the workers logged:" + Environment.NewLine + faults);
            echo = await EchoBaseline.RunAsync(cluster.Broker, settings.Wallets, settings.Duration, progress, cancellationToken).ConfigureAwait(false);
            quorumEcho = await EchoBaseline.RunAsync(cluster.Broker, settings.Wallets, settings.Duration, progress, cancellationToken, quorum: true).ConfigureAwait(false);
            progress("Stopping the BFF, the workers and the broker");
        }

        return new E2eResult(settings, broker, endToEnd, inProcess, echo, Environment.ProcessorCount, loadAverage, breakdown, quorumEcho, endToEndBreakdown);
    }

    private static async Task<LoadResult> MeasureAsync(E2eSettings settings, string label, Func<CancellationToken, Task<BenchWallet>> createWallet,
        Action<string> progress, CancellationToken cancellationToken, Action? beforeTimed = null,
        Func<IReadOnlyDictionary<string, TimeSpan>>? cpuProbe = null)
    {
        progress($"{label}: registering {settings.Wallets} wallet(s) (PIN, one P-256 key each; not timed)");
        var wallets = new List<BenchWallet>(settings.Wallets);
        try
        {
            for (var i = 0; i < settings.Wallets; i++)
                wallets.Add(await createWallet(cancellationToken).ConfigureAwait(false));
            if (settings.Warmup > TimeSpan.Zero)
            {
                progress(string.Create(CultureInfo.InvariantCulture, $"{label}: warming up for {settings.Warmup.TotalSeconds:0.#} s (not timed)"));
                await LoadRun.RunAsync(wallets, settings.Warmup, settings.SignsPerLogin, label + " warm-up", progress, cancellationToken).ConfigureAwait(false);
            }

            progress(string.Create(CultureInfo.InvariantCulture,
                $"{label}: {settings.Wallets} wallet(s) for {settings.Duration.TotalSeconds:0.#} s, a login every {settings.SignsPerLogin} signs"));
            beforeTimed?.Invoke();
            return await LoadRun.RunAsync(wallets, settings.Duration, settings.SignsPerLogin, label, progress, cancellationToken, cpuProbe).ConfigureAwait(false);
        }
        finally
        {
            foreach (var wallet in wallets) wallet.Dispose();
        }
    }

    /// <summary>The 1-minute load average (Linux), to judge how busy the machine was; null where there is none.</summary>
    private static double? ReadLoadAverage()
    {
        try
        {
            var text = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg") : null;
            var first = text?.Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
            return double.TryParse(first, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : null;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
