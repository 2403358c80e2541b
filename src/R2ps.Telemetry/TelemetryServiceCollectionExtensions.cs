using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace R2ps.Telemetry;

/// <summary>The one telemetry registration every R2PS host makes.</summary>
public static class TelemetryServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="TelemetryOptions"/> (section <c>Telemetry</c>, validated now and at start) and, when an
    /// exporter is configured (<c>Telemetry:OtlpEndpoint</c>, <c>Telemetry:Console</c>) or given in code
    /// (<paramref name="configureTracing"/>, <paramref name="configureMetrics"/>), OpenTelemetry: traces of
    /// <see cref="TelemetrySources.ActivitySources"/> (ours and MassTransit's, which carries the trace context through the
    /// broker in its message headers), ASP.NET Core and HttpClient; metrics of <see cref="TelemetrySources.Meters"/>,
    /// ASP.NET Core, HttpClient and the runtime. Without an exporter nothing listens, so the instruments cost next to
    /// nothing. Either way every log line written inside a span carries its trace and span id (a logging scope, shown
    /// by the console formatters). Only the first call on a container counts.
    /// </summary>
    public static IServiceCollection AddR2psTelemetry(this IServiceCollection services, IConfiguration configuration,
        Action<TracerProviderBuilder>? configureTracing = null, Action<MeterProviderBuilder>? configureMetrics = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        // Once per container: in one process (`serve all`) the BFF and the worker both ask for it, and a second
        // pipeline would export every span twice. The first call wins, so a test adds its exporter by calling first.
        if (services.Any(d => d.ServiceType == typeof(TelemetryRegistered)))
            return services;
        services.AddSingleton<TelemetryRegistered>();

        var section = configuration.GetSection(TelemetryOptions.SectionName);
        services.AddOptions<TelemetryOptions>().Bind(section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TelemetryOptions>, TelemetryOptionsValidator>());

        // The exporters are a registration-time choice, so the options are read and checked now.
        var options = section.Get<TelemetryOptions>() ?? new TelemetryOptions();
        var validation = new TelemetryOptionsValidator().Validate(null, options);
        if (validation.Failed)
            throw new OptionsValidationException(TelemetryOptions.SectionName, typeof(TelemetryOptions), validation.Failures);

        // The trace id on log lines: the factory opens a scope per activity, the console formatters print scopes.
        services.Configure<LoggerFactoryOptions>(o => o.ActivityTrackingOptions |= ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);
        services.Configure<SimpleConsoleFormatterOptions>(o => o.IncludeScopes = true);
        services.Configure<JsonConsoleFormatterOptions>(o => o.IncludeScopes = true);

        if (!options.AnyExporter && configureTracing is null && configureMetrics is null)
            return services;

        _ = TelemetrySetup.TryParseProtocol(options.OtlpProtocol, out var protocol); // validated above
        var otlp = string.IsNullOrWhiteSpace(options.OtlpEndpoint) ? null : new Uri(options.OtlpEndpoint, UriKind.Absolute);
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(options.ServiceName ?? TelemetrySetup.DefaultServiceName(),
                serviceInstanceId: $"{Environment.MachineName}:{Environment.ProcessId}"))
            .WithTracing(tracing =>
            {
                tracing.AddSource([.. TelemetrySources.ActivitySources])
                    .AddAspNetCoreInstrumentation(o =>
                    {
                        // Health probes would drown the traces that matter.
                        o.Filter = context => !context.Request.Path.StartsWithSegments("/health", StringComparison.OrdinalIgnoreCase);
                    })
                    .AddHttpClientInstrumentation();
                if (otlp is not null)
                    tracing.AddOtlpExporter(o => TelemetrySetup.Configure(o, otlp, protocol, "v1/traces"));
                if (options.Console)
                    tracing.AddConsoleExporter();
                configureTracing?.Invoke(tracing);
            })
            .WithMetrics(metrics =>
            {
                metrics.AddMeter([.. TelemetrySources.Meters])
                    .AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation()
                    .AddRuntimeInstrumentation();
                var interval = (int)options.MetricExportInterval.TotalMilliseconds;
                if (otlp is not null)
                {
                    metrics.AddOtlpExporter((o, reader) =>
                    {
                        TelemetrySetup.Configure(o, otlp, protocol, "v1/metrics");
                        reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = interval;
                    });
                }

                if (options.Console)
                    metrics.AddConsoleExporter((_, reader) => reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = interval);
                configureMetrics?.Invoke(metrics);
            });
        return services;
    }
}

/// <summary>What the hosts listen to.</summary>
public static class TelemetrySources
{
    /// <summary>
    /// Our libraries' sources (R2ps.Service, R2ps.Worker, …: one prefix, so a new library needs no change here) and
    /// MassTransit's, whose send/receive/consume spans carry the trace from the BFF through the broker to a worker and
    /// the saga.
    /// </summary>
    public static readonly IReadOnlyList<string> ActivitySources = ["R2ps.*", "MassTransit"];

    /// <summary>Our libraries' meters and MassTransit's.</summary>
    public static readonly IReadOnlyList<string> Meters = ["R2ps.*", "MassTransit"];
}

/// <summary>Marks a container that <see cref="TelemetryServiceCollectionExtensions.AddR2psTelemetry"/> has set up.</summary>
internal sealed class TelemetryRegistered;

/// <summary>Small helpers of the set-up.</summary>
internal static class TelemetrySetup
{
    public static bool TryParseProtocol(string? value, out OtlpExportProtocol protocol)
    {
        switch ((value ?? string.Empty).Trim().ToLowerInvariant())
        {
            case OtlpProtocols.Grpc:
                protocol = OtlpExportProtocol.Grpc;
                return true;
            case OtlpProtocols.HttpProtobuf:
                protocol = OtlpExportProtocol.HttpProtobuf;
                return true;
            default:
                protocol = default;
                return false;
        }
    }

    /// <summary>A per-signal exporter over HTTP needs the signal's full path; gRPC takes the address as it is.</summary>
    public static void Configure(OtlpExporterOptions options, Uri endpoint, OtlpExportProtocol protocol, string signalPath)
    {
        options.Protocol = protocol;
        options.Endpoint = protocol == OtlpExportProtocol.HttpProtobuf
            ? new Uri(new Uri(endpoint.AbsoluteUri.TrimEnd('/') + "/"), signalPath)
            : endpoint;
    }

    public static string DefaultServiceName() => Assembly.GetEntryAssembly()?.GetName().Name ?? "r2ps";
}
