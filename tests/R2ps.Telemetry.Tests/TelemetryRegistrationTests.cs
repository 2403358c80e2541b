using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace R2ps.Telemetry.Tests;

/// <summary>AddR2psTelemetry: off by default, validated at registration, the trace id on log lines, once per container.</summary>
public sealed partial class TelemetryRegistrationTests
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "inside the span")]
    static partial void InsideTheSpan(ILogger logger);

    static IConfiguration Config(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();

    [Fact]
    public void Without_an_exporter_no_tracer_or_meter_provider_is_built()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddR2psTelemetry(Config());
        using var provider = services.BuildServiceProvider();
        Assert.Null(provider.GetService<TracerProvider>());
        Assert.Null(provider.GetService<MeterProvider>());
        Assert.False(provider.GetRequiredService<IOptions<TelemetryOptions>>().Value.AnyExporter);
    }

    [Fact]
    public void With_the_console_exporter_our_and_masstransit_s_sources_are_listened_to()
    {
        using var ours = new ActivitySource("R2ps.Telemetry.Tests.Probe");
        using var massTransit = new ActivitySource("MassTransit");
        using var other = new ActivitySource("Someone.Else." + Guid.NewGuid().ToString("N"));
        var services = new ServiceCollection().AddLogging();
        services.AddR2psTelemetry(Config(("Telemetry:Console", "true")));
        using var provider = services.BuildServiceProvider();

        Assert.NotNull(provider.GetService<TracerProvider>());
        Assert.NotNull(provider.GetService<MeterProvider>());
        Assert.True(ours.HasListeners());
        Assert.True(massTransit.HasListeners());
        Assert.False(other.HasListeners());
    }

    [Theory]
    [InlineData("collector:4317", "absolute http:// or https://")]
    [InlineData("ftp://collector:4317", "absolute http:// or https://")]
    [InlineData("http://user:s3cr3t-token@collector:4317", "must not carry credentials")]
    public void A_bad_otlp_endpoint_fails_the_registration_with_a_message_that_names_the_setting_and_no_secret(string endpoint, string expected)
    {
        var services = new ServiceCollection();
        var error = Assert.Throws<OptionsValidationException>(() => services.AddR2psTelemetry(Config(("Telemetry:OtlpEndpoint", endpoint))));
        Assert.Contains("Telemetry:OtlpEndpoint", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cr3t", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_otlp_protocol_fails_the_registration()
    {
        var error = Assert.Throws<OptionsValidationException>(() =>
            new ServiceCollection().AddR2psTelemetry(Config(("Telemetry:OtlpEndpoint", "http://127.0.0.1:4317"), ("Telemetry:OtlpProtocol", "thrift"))));
        Assert.Contains("Telemetry:OtlpProtocol", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_second_call_on_the_same_container_adds_no_second_pipeline()
    {
        var exported = new List<Activity>();
        var services = new ServiceCollection().AddLogging();
        services.AddR2psTelemetry(Config(), tracing => tracing.AddInMemoryExporter(exported));
        services.AddR2psTelemetry(Config(), tracing => tracing.AddInMemoryExporter(exported)); // as the BFF does after the worker
        using var provider = services.BuildServiceProvider();
        _ = provider.GetRequiredService<TracerProvider>();

        using var source = new ActivitySource("R2ps.Telemetry.Tests.Once");
        source.StartActivity("once")?.Dispose();
        Assert.Single(exported, a => a.DisplayName == "once");
    }

    [Fact]
    public async Task A_log_line_written_inside_a_span_carries_its_trace_and_span_id()
    {
        var scopes = new ScopeRecorder();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders().AddProvider(scopes);
        builder.Services.AddR2psTelemetry(Config(), tracing => tracing.AddInMemoryExporter(new List<Activity>()));
        using var host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);

        using var source = new ActivitySource("R2ps.Telemetry.Tests.Logging");
        var logger = host.Services.GetRequiredService<ILogger<TelemetryRegistrationTests>>();
        string traceId, spanId;
        using (var activity = source.StartActivity("logged"))
        {
            Assert.NotNull(activity);
            traceId = activity.TraceId.ToHexString();
            spanId = activity.SpanId.ToHexString();
            InsideTheSpan(logger);
        }

        await host.StopAsync(TestContext.Current.CancellationToken);
        var line = Assert.Single(scopes.Lines, l => l.Message == "inside the span");
        Assert.Equal(traceId, line.Scope["TraceId"]);
        Assert.Equal(spanId, line.Scope["SpanId"]);
    }

    /// <summary>A logger provider that keeps each line's message and the values of its scopes.</summary>
    sealed class ScopeRecorder : ILoggerProvider, ISupportExternalScope
    {
        IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

        public List<(string Message, Dictionary<string, string?> Scope)> Lines { get; } = [];

        public ILogger CreateLogger(string categoryName) => new Recorder(this);

        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

        public void Dispose()
        {
        }

        sealed class Recorder(ScopeRecorder owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => owner._scopes.Push(state);

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var values = new Dictionary<string, string?>(StringComparer.Ordinal);
                owner._scopes.ForEachScope((scope, into) =>
                {
                    if (scope is IEnumerable<KeyValuePair<string, object?>> pairs)
                        foreach (var pair in pairs)
                            into[pair.Key] = pair.Value?.ToString();
                }, values);
                lock (owner.Lines)
                    owner.Lines.Add((formatter(state, exception), values));
            }
        }
    }
}
