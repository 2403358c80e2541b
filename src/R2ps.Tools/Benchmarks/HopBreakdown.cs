using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using R2ps.Hsm;
using R2ps.Messaging;
using R2ps.Worker.Adapters;

namespace R2ps.Tools.Benchmarks;

/// <summary>One line of the breakdown: a span or a timed call, how often it ran and its mean and total wall time.</summary>
public sealed record HopTiming(string Name, long Count, double MeanMs, double TotalMs);

/// <summary>
/// Where a run's time goes, from the telemetry the code already emits (no profiler), in this process.
/// In process (<see cref="InProcessSources"/>): the service's spans (request by type, HSM operations), the worker's
/// (sign-session read, store calls by operation via the <c>r2ps.store.duration</c> histogram, saga commands by command),
/// the HSM's operations and session-pool wait, and MassTransit's spans (the saga's commands).
/// End to end (<see cref="BffSideSources"/>), this process holds the wallets and the BFF: the wallets' HTTP calls, the
/// BFF's HTTP handling and its MassTransit sends and reply receipts, and the BFF's request round trips with the wait
/// until a worker took each and the worker's handling, split into store, HSM and saga (as the workers report them in
/// their replies, <see cref="R2psMessagingMetrics"/>). The HTTP call less the BFF's handling is the loopback hop; the
/// handling less the round trip is the BFF's own work; the round trip less the wait and the handling is the reply's way
/// back; the handling less its store, HSM and saga time is the worker's own work.
/// Listening makes the spans start, so it is only attached when <c>--breakdown</c> asks for it. Wall time, not CPU:
/// under load a store call's time includes its wait for the database lock, which is the point.
/// </summary>
internal sealed class HopBreakdown : IDisposable
{
    /// <summary>The service core's and the saga's spans, for the in-process run.</summary>
    public static readonly IReadOnlySet<string> InProcessSources = new HashSet<string>(StringComparer.Ordinal) { "R2ps.Service", "R2ps.Worker", "MassTransit" };

    /// <summary>HttpClient's (the wallets), ASP.NET Core's (the BFF) and MassTransit's (the BFF's requests) spans.</summary>
    public static readonly IReadOnlySet<string> BffSideSources = new HashSet<string>(StringComparer.Ordinal) { "System.Net.Http", "Microsoft.AspNetCore", "MassTransit" };

    private static readonly HashSet<string> Instruments = new(StringComparer.Ordinal)
    {
        WorkerTelemetry.StoreDurationName, WorkerTelemetry.SessionCommandDurationName, HsmMetrics.OperationDurationName, "r2ps.hsm.session.wait",
        R2psMessagingMetrics.RoundTripName, R2psMessagingMetrics.QueuedName, R2psMessagingMetrics.HandlingName,
        R2psMessagingMetrics.StoreName, R2psMessagingMetrics.HsmName, R2psMessagingMetrics.SagaName,
    };

    private readonly ConcurrentDictionary<string, Accumulator> _timings = new(StringComparer.Ordinal);
    private readonly ActivityListener _activities;
    private readonly MeterListener _meters;

    /// <param name="sources">The activity sources to listen to.</param>
    /// <param name="nameSources">Prefix each span with its source's name (HttpClient's and ASP.NET Core's spans are
    /// named after the HTTP method and route alone).</param>
    public HopBreakdown(IReadOnlySet<string> sources, bool nameSources = false)
    {
        ArgumentNullException.ThrowIfNull(sources);
        _activities = new ActivityListener
        {
            ShouldListenTo = source => sources.Contains(source.Name),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = activity => Add(
                nameSources ? $"span {activity.Source.Name}: {activity.DisplayName}" : "span " + activity.DisplayName,
                activity.Duration.TotalMilliseconds),
        };
        ActivitySource.AddActivityListener(_activities);
        _meters = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (Instruments.Contains(instrument.Name)) listener.EnableMeasurementEvents(instrument);
            },
        };
        _meters.SetMeasurementEventCallback<double>((instrument, seconds, tags, _) =>
        {
            var operation = "";
            foreach (var tag in tags)
            {
                if (tag.Key is WorkerTelemetry.StoreOperationTag or WorkerTelemetry.SessionCommandTag) operation = " " + tag.Value;
            }

            Add(instrument.Name + operation, seconds * 1000);
        });
        _meters.Start();
    }

    /// <summary>Forgets what was measured so far (the untimed set-up).</summary>
    public void Reset() => _timings.Clear();

    /// <summary>The lines, largest total first.</summary>
    public IReadOnlyList<HopTiming> Snapshot() =>
    [
        .. _timings.Select(t =>
        {
            long count;
            double total;
            lock (t.Value)
            {
                count = t.Value.Count;
                total = t.Value.TotalMs;
            }

            return new HopTiming(t.Key, count, count == 0 ? 0 : total / count, total);
        }).OrderByDescending(t => t.TotalMs),
    ];

    private void Add(string name, double ms)
    {
        var accumulator = _timings.GetOrAdd(name, _ => new Accumulator());
        lock (accumulator)
        {
            accumulator.Count++;
            accumulator.TotalMs += ms;
        }
    }

    public void Dispose()
    {
        _activities.Dispose();
        _meters.Dispose();
    }

    private sealed class Accumulator
    {
        public long Count;
        public double TotalMs;
    }
}
