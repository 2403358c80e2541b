using System.Diagnostics;
using System.Diagnostics.Metrics;
using R2ps.Protocol;

namespace R2ps.Service;

/// <summary>
/// The service core's metrics (meter <see cref="MeterName"/>): requests and their latency per service type and outcome,
/// and errors per code. System.Diagnostics only: a host subscribes with <c>AddMeter</c> (see R2ps.Telemetry). Tag values
/// come from closed sets (the known service types, the error codes), never from raw request fields, so a client cannot
/// grow the series.
/// </summary>
public sealed class R2psServiceMetrics : IDisposable
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "R2ps.Service";

    /// <summary>The counter of refusals before authentication (<see cref="RecordUnauthenticatedRefusal"/>).</summary>
    public const string UnauthenticatedRefusalsName = "r2ps.service.unauthenticated_refusals";

    /// <summary>Tag: the request's service type (<c>hsm_ecdsa</c>, …; <c>unknown</c> for a type the protocol lacks, <c>none</c> before one was read).</summary>
    public const string ServiceTypeTag = "r2ps.service_type";

    /// <summary>Tag: <c>OK</c> or the error code of the answer.</summary>
    public const string OutcomeTag = "r2ps.outcome";

    /// <summary>Tag: the error code of a refused or failed request.</summary>
    public const string ErrorCodeTag = "r2ps.error_code";

    /// <summary>
    /// Histogram boundaries in seconds, 0.5 ms to 10 s: OpenTelemetry's default boundaries are made for milliseconds and
    /// would put every request in the first bucket.
    /// </summary>
    public static readonly IReadOnlyList<double> SecondsBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    readonly Meter _meter;
    readonly Counter<long> _requests;
    readonly Histogram<double> _duration;
    readonly Counter<long> _errors;
    readonly Counter<long> _unauthenticatedRefusals;

    /// <summary>Creates the instruments on a meter of <paramref name="meterFactory"/> (the host's), or on an own meter.</summary>
    public R2psServiceMetrics(IMeterFactory? meterFactory = null)
    {
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _requests = _meter.CreateCounter<long>("r2ps.service.requests", "{request}", "R2PS requests handled, by service type and outcome.");
        _duration = _meter.CreateHistogram<double>("r2ps.service.request.duration", "s",
            "Time from taking an R2PS envelope to having its answer, by service type and outcome.", tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });
        _errors = _meter.CreateCounter<long>("r2ps.service.errors", "{error}", "R2PS requests answered with an error, by service type and error code.");
        _unauthenticatedRefusals = _meter.CreateCounter<long>(UnauthenticatedRefusalsName, "{request}",
            "R2PS requests refused before the client's signature verified (not audited row by row), by service type and error code.");
    }

    /// <summary>Records one handled request.</summary>
    public void RecordRequest(string serviceType, string outcome, TimeSpan elapsed)
    {
        var type = new KeyValuePair<string, object?>(ServiceTypeTag, serviceType);
        var result = new KeyValuePair<string, object?>(OutcomeTag, outcome);
        _requests.Add(1, type, result);
        _duration.Record(elapsed.TotalSeconds, type, result);
        if (!string.Equals(outcome, ProtocolConstants.Ok, StringComparison.Ordinal))
            _errors.Add(1, type, new KeyValuePair<string, object?>(ErrorCodeTag, outcome));
    }

    /// <summary>
    /// Counts one request refused before its signature verified (unknown client, bad JWS, …). Such refusals are counted
    /// here instead of written to the audit log: anyone can send them, so a row each would let a stranger fill the database.
    /// </summary>
    public void RecordUnauthenticatedRefusal(string serviceType, string errorCode) =>
        _unauthenticatedRefusals.Add(1, new KeyValuePair<string, object?>(ServiceTypeTag, serviceType), new KeyValuePair<string, object?>(ErrorCodeTag, errorCode));

    /// <summary>The tag value for a service type as read from a request: only known types pass through.</summary>
    public static string ServiceTypeOf(string? type) => type is null ? "none" : ServiceTypes.IsKnown(type) ? type : "unknown";

    /// <inheritdoc />
    public void Dispose() => _meter.Dispose();
}

/// <summary>
/// The service core's spans (source <see cref="SourceName"/>): one per request (<c>R2PS hsm_ecdsa</c>) and one per HSM
/// operation inside it. Started only when a listener samples them, so they cost nothing otherwise.
/// </summary>
public static class R2psServiceActivity
{
    /// <summary>The activity source's name.</summary>
    public const string SourceName = "R2ps.Service";

    /// <summary>Tag: the HSM operation (<c>generate</c>, <c>sign</c>, <c>derive</c>, <c>delete</c>, <c>unseal</c>).</summary>
    public const string HsmOperationTag = "r2ps.hsm.operation";

    internal static readonly ActivitySource Source = new(SourceName);

    internal static Activity? StartRequest() => Source.StartActivity("R2PS request");

    internal static Activity? StartHsm(string operation, string? curve = null)
    {
        var activity = Source.StartActivity("HSM " + operation);
        activity?.SetTag(HsmOperationTag, operation);
        if (curve is not null) activity?.SetTag("r2ps.hsm.curve", curve);
        return activity;
    }

    /// <summary>Names the request span after its service type and records the outcome; 5xx answers mark it failed.</summary>
    internal static void Complete(Activity? activity, string serviceType, int status, string outcome)
    {
        if (activity is null) return;
        activity.DisplayName = "R2PS " + serviceType;
        activity.SetTag(R2psServiceMetrics.ServiceTypeTag, serviceType);
        activity.SetTag(R2psServiceMetrics.OutcomeTag, outcome);
        activity.SetTag("r2ps.status", status);
        if (status >= 500) activity.SetStatus(ActivityStatusCode.Error, outcome);
    }
}
