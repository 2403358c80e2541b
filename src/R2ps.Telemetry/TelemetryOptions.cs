namespace R2ps.Telemetry;

/// <summary>
/// Where this process sends its traces and metrics (configuration section <c>Telemetry</c>). Off by default: with no
/// exporter configured no OpenTelemetry pipeline is built, nothing listens to the activity sources or meters, and an
/// instrument costs a branch.
/// </summary>
public sealed class TelemetryOptions
{
    /// <summary>The configuration section bound to these options.</summary>
    public const string SectionName = "Telemetry";

    /// <summary>
    /// The OTLP collector (e.g. <c>http://127.0.0.1:4317</c> for gRPC, <c>http://127.0.0.1:4318</c> for HTTP); unset = no
    /// OTLP exporter. For <see cref="OtlpProtocols.HttpProtobuf"/> the base address: <c>/v1/traces</c> and
    /// <c>/v1/metrics</c> are appended.
    /// </summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary><see cref="OtlpProtocols.Grpc"/> (default) or <see cref="OtlpProtocols.HttpProtobuf"/>.</summary>
    public string OtlpProtocol { get; set; } = OtlpProtocols.Grpc;

    /// <summary>Write every finished span (and the metrics, at each export interval) to standard output.</summary>
    public bool Console { get; set; }

    /// <summary>The <c>service.name</c> resource attribute; unset = the entry assembly's name (R2ps.Bff, R2ps.Worker, r2ps).</summary>
    public string? ServiceName { get; set; }

    /// <summary>How often metrics are exported.</summary>
    public TimeSpan MetricExportInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Whether an exporter is configured (the pipeline is built only then, or when code adds one).</summary>
    public bool AnyExporter => !string.IsNullOrWhiteSpace(OtlpEndpoint) || Console;
}

/// <summary>The values of <see cref="TelemetryOptions.OtlpProtocol"/> (case-insensitive).</summary>
public static class OtlpProtocols
{
    /// <summary>OTLP over gRPC (port 4317 by convention).</summary>
    public const string Grpc = "grpc";

    /// <summary>OTLP over HTTP with protobuf bodies (port 4318 by convention).</summary>
    public const string HttpProtobuf = "http/protobuf";
}
