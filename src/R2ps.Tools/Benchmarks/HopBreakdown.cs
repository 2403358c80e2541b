using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace R2ps.Tools.Benchmarks;

/// <summary>One line of the breakdown: a span or a timed call, how often it ran and its mean and total wall time.</summary>
public sealed record HopTiming(string Name, long Count, double MeanMs, double TotalMs);

/// <summary>
/// Where the time of the in-process run goes, from the telemetry the code already emits (no profiler): the service's
/// spans (request by type, HSM operations), the worker's (sign-session read, store calls by operation via the
/// <c>r2ps.store.duration</c> histogram), the HSM session-pool wait, and MassTransit's spans (the saga's commands).
/// Listening makes the spans start, so it is only attached when <c>--breakdown</c> asks for it. Wall time, not CPU:
/// under load a store call's time includes its wait for the database lock, which is the point.
/// </summary>
internal sealed class HopBreakdown : IDisposable
{
    private static readonly HashSet<string> Sources = new(StringComparer.Ordinal) { "R2ps.Service", "R2ps.Worker", "MassTransit" };
    private static readonly HashSet<string> Instruments = new(StringComparer.Ordinal) { "r2ps.store.duration", "r2ps.hsm.session.wait" };

    private readonly ConcurrentDictionary<string, Accumulator> _timings = new(StringComparer.Ordinal);
    private readonly ActivityListener _activities;
    private readonly MeterListener _meters;

    public HopBreakdown()
    {
        _activities = new ActivityListener
        {
            ShouldListenTo = source => Sources.Contains(source.Name),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = activity => Add("span " + activity.DisplayName, activity.Duration.TotalMilliseconds),
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
                if (tag.Key == "r2ps.store.operation") operation = " " + tag.Value;
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
