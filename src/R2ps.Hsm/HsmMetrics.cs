using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace R2ps.Hsm;

/// <summary>
/// The HSM's metrics (meter <see cref="MeterName"/>): how long an operation waited for a session of the pool, by outcome,
/// and how long each operation took, its wait included.
/// Static because the pool is created by <see cref="HsmConnection.Open"/>, outside any container; System.Diagnostics only,
/// a host subscribes by name (see R2ps.Telemetry).
/// </summary>
public static class HsmMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "R2ps.Hsm";

    static readonly Meter Meter = new(MeterName);

    static readonly Histogram<double> SessionWait = Meter.CreateHistogram<double>("r2ps.hsm.session.wait", "s",
        "Time an HSM operation waited for a pooled PKCS#11 session, by outcome (entered, timed_out, closed).", tags: null,
        // Seconds, from a free session (microseconds) up to Hsm:SessionWaitTimeout (5 s by default).
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.00001, 0.0001, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10] });

    /// <summary>The name of the operations' histogram (<see cref="RecordOperation"/>).</summary>
    public const string OperationDurationName = "r2ps.hsm.operation.duration";

    static readonly Histogram<double> OperationDuration = Meter.CreateHistogram<double>(OperationDurationName, "s",
        "Time of an HSM operation: its wait for a pooled PKCS#11 session and its PKCS#11 calls, whatever the outcome.", tags: null,
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.00001, 0.0001, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10] });

    /// <summary>Records an HSM operation that began at <paramref name="startedTimestamp"/> (<see cref="Stopwatch.GetTimestamp"/>).</summary>
    internal static void RecordOperation(long startedTimestamp) =>
        OperationDuration.Record(Stopwatch.GetElapsedTime(startedTimestamp).TotalSeconds);

    /// <summary>Records a wait for a session permit that began at <paramref name="startedTimestamp"/> (<see cref="Stopwatch.GetTimestamp"/>).</summary>
    internal static void RecordSessionWait(long startedTimestamp, GateEntry entry) =>
        SessionWait.Record(Stopwatch.GetElapsedTime(startedTimestamp).TotalSeconds, new KeyValuePair<string, object?>("r2ps.outcome", entry switch
        {
            GateEntry.Entered => "entered",
            GateEntry.TimedOut => "timed_out",
            _ => "closed",
        }));
}
