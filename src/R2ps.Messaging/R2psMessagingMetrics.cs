using System.Diagnostics.Metrics;
using System.Globalization;
using MassTransit;
using R2ps.Contracts;

namespace R2ps.Messaging;

/// <summary>
/// The request round trip as the sender sees it (meter <see cref="MeterName"/>): its whole duration, and the parts the
/// worker reports in its reply (<see cref="R2psReplyHeaders"/>): the wait until a worker took the request and the worker's
/// handling, and of the handling the time in store calls, on the HSM and waiting for the saga. What remains of the round
/// trip is the reply's way back. System.Diagnostics only; hosts subscribe (see
/// R2ps.Telemetry), and <c>bench e2e --breakdown</c> reads them.
/// </summary>
public static class R2psMessagingMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "R2ps.Messaging";

    /// <summary>Send to reply, as the sender waited for it.</summary>
    public const string RoundTripName = "r2ps.messaging.request.duration";

    /// <summary>Send until a worker took the request (<see cref="R2psReplyHeaders.QueuedMicroseconds"/>).</summary>
    public const string QueuedName = "r2ps.messaging.request.queued";

    /// <summary>The worker's handling (<see cref="R2psReplyHeaders.HandlingMicroseconds"/>).</summary>
    public const string HandlingName = "r2ps.messaging.request.handling";

    /// <summary>Of the handling, the store calls (<see cref="R2psReplyHeaders.StoreMicroseconds"/>).</summary>
    public const string StoreName = "r2ps.messaging.request.store";

    /// <summary>Of the handling, the HSM (<see cref="R2psReplyHeaders.HsmMicroseconds"/>).</summary>
    public const string HsmName = "r2ps.messaging.request.hsm";

    /// <summary>Of the handling, the waits for the saga (<see cref="R2psReplyHeaders.SagaMicroseconds"/>).</summary>
    public const string SagaName = "r2ps.messaging.request.saga";

    // 0.5 ms to 10 s, as the service core's request histogram: OpenTelemetry's defaults are made for milliseconds.
    static readonly InstrumentAdvice<double> Buckets = new()
    {
        HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    };

    // Static: one per process, like the client that records it; the host's AddMeter subscribes to it by name.
    static readonly Meter Meter = new(MeterName);

    static readonly Histogram<double> RoundTrip = Meter.CreateHistogram(RoundTripName, "s",
        "Time from sending an R2PS request to the broker to having its reply.", tags: null, advice: Buckets);

    static readonly Histogram<double> Queued = Meter.CreateHistogram(QueuedName, "s",
        "Time from sending an R2PS request to a worker taking it (the broker's confirm and routing, the queue wait), as the worker reports it.",
        tags: null, advice: Buckets);

    static readonly Histogram<double> Handling = Meter.CreateHistogram(HandlingName, "s",
        "Time a worker took to handle an R2PS request, as it reports it.", tags: null, advice: Buckets);

    static readonly Histogram<double> Store = Meter.CreateHistogram(StoreName, "s",
        "Of a worker's handling of an R2PS request, the time in store calls, as it reports it.", tags: null, advice: Buckets);

    static readonly Histogram<double> Hsm = Meter.CreateHistogram(HsmName, "s",
        "Of a worker's handling of an R2PS request, the time on the HSM, as it reports it.", tags: null, advice: Buckets);

    static readonly Histogram<double> Saga = Meter.CreateHistogram(SagaName, "s",
        "Of a worker's handling of an R2PS request, the time waiting for the sign-session saga, as it reports it.", tags: null, advice: Buckets);

    // Each figure a worker reports, and where it is recorded.
    static readonly (string Header, Histogram<double> Histogram)[] Reported =
    [
        (R2psReplyHeaders.QueuedMicroseconds, Queued),
        (R2psReplyHeaders.HandlingMicroseconds, Handling),
        (R2psReplyHeaders.StoreMicroseconds, Store),
        (R2psReplyHeaders.HsmMicroseconds, Hsm),
        (R2psReplyHeaders.SagaMicroseconds, Saga),
    ];

    /// <summary>Records one answered request: its round trip, and the worker's figures when its reply carries them.</summary>
    internal static void RecordReply(TimeSpan roundTrip, Headers replyHeaders)
    {
        RoundTrip.Record(roundTrip.TotalSeconds);
        foreach (var (header, histogram) in Reported)
        {
            if (ReadSeconds(replyHeaders, header) is { } seconds)
                histogram.Record(seconds);
        }
    }

    /// <summary>The header in seconds; nothing when absent or not a non-negative integer (a worker of another version).</summary>
    internal static double? ReadSeconds(Headers headers, string name)
    {
        if (!headers.TryGetHeader(name, out var value)) return null;
        long? microseconds = value switch
        {
            long l => l,
            int i => i,
            string s when long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) => parsed,
            _ => null,
        };
        return microseconds is >= 0 ? microseconds.Value / 1e6 : null;
    }
}
