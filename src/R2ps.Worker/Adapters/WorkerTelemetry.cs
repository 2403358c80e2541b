using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace R2ps.Worker.Adapters;

/// <summary>
/// The worker's own spans and metrics (source and meter <see cref="Name"/>), taken at the adapters between the service
/// core and the store, so the store itself stays free of them: the latency of every store call the core makes, by
/// operation, the round trip of every command to the sign-session saga, by command, and a span for the sign-session read.
/// System.Diagnostics only; hosts subscribe (see R2ps.Telemetry).
/// </summary>
public static class WorkerTelemetry
{
    /// <summary>The activity source's and meter's name.</summary>
    public const string Name = "R2ps.Worker";

    /// <summary>Tag: the store operation (<c>clients.find</c>, <c>nonces.add</c>, …).</summary>
    public const string StoreOperationTag = "r2ps.store.operation";

    /// <summary>The store calls' histogram.</summary>
    public const string StoreDurationName = "r2ps.store.duration";

    /// <summary>The saga commands' histogram.</summary>
    public const string SessionCommandDurationName = "r2ps.session.command.duration";

    /// <summary>Tag: the saga command (<c>begin_login</c>, <c>activate</c>, <c>close</c>, …).</summary>
    public const string SessionCommandTag = "r2ps.session.command";

    internal static readonly ActivitySource Source = new(Name);

    // Static, like the adapters' lifetime: one per process, the host's AddMeter subscribes to it by name.
    static readonly Meter Meter = new(Name);

    static readonly Histogram<double> StoreDuration = Meter.CreateHistogram<double>(StoreDurationName, "s",
        "Time of a store call made for an R2PS request, by operation and outcome (ok, or error when it threw).", tags: null,
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = R2ps.Service.R2psServiceMetrics.SecondsBuckets });

    static readonly Histogram<double> SessionCommandDuration = Meter.CreateHistogram<double>(SessionCommandDurationName, "s",
        "Time from sending a command to the sign-session saga to having its answer, by command and outcome.", tags: null,
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = R2ps.Service.R2psServiceMetrics.SecondsBuckets });

    /// <summary>Runs <paramref name="call"/> and records its duration under <paramref name="operation"/>.</summary>
    internal static Task<T> TimeStoreAsync<T>(string operation, Func<Task<T>> call) =>
        TimeAsync(StoreDuration, StoreOperationTag, operation, call);

    /// <inheritdoc cref="TimeStoreAsync{T}(string, Func{Task{T}})"/>
    internal static Task TimeStoreAsync(string operation, Func<Task> call) => TimeStoreAsync(operation, async () =>
    {
        await call().ConfigureAwait(false);
        return true;
    });

    /// <summary>Runs <paramref name="call"/>, a command to the saga, and records its duration under <paramref name="command"/>.</summary>
    internal static Task<T> TimeSessionCommandAsync<T>(string command, Func<Task<T>> call) =>
        TimeAsync(SessionCommandDuration, SessionCommandTag, command, call);

    static async Task<T> TimeAsync<T>(Histogram<double> histogram, string tag, string name, Func<Task<T>> call)
    {
        var started = Stopwatch.GetTimestamp();
        var outcome = "error";
        try
        {
            var result = await call().ConfigureAwait(false);
            outcome = "ok";
            return result;
        }
        finally
        {
            histogram.Record(Stopwatch.GetElapsedTime(started).TotalSeconds,
                new KeyValuePair<string, object?>(tag, name), new KeyValuePair<string, object?>("r2ps.outcome", outcome));
        }
    }
}
