using Microsoft.Extensions.Options;

namespace R2ps.Telemetry;

/// <summary>Checks <see cref="TelemetryOptions"/>: a usable collector address and protocol, a sane export interval.</summary>
public sealed class TelemetryOptionsValidator : IValidateOptions<TelemetryOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, TelemetryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new List<string>();
        if (!string.IsNullOrWhiteSpace(options.OtlpEndpoint))
        {
            // Only the scheme and host are named in the message: an endpoint may carry credentials in its user info.
            if (!Uri.TryCreate(options.OtlpEndpoint, UriKind.Absolute, out var endpoint)
                || endpoint.Scheme is not ("http" or "https")
                || string.IsNullOrEmpty(endpoint.Host))
                problems.Add("Telemetry:OtlpEndpoint must be an absolute http:// or https:// address of an OTLP collector.");
            else if (!string.IsNullOrEmpty(endpoint.UserInfo))
                problems.Add("Telemetry:OtlpEndpoint must not carry credentials in its address.");
        }

        if (!TelemetrySetup.TryParseProtocol(options.OtlpProtocol, out _))
            problems.Add($"Telemetry:OtlpProtocol must be \"{OtlpProtocols.Grpc}\" or \"{OtlpProtocols.HttpProtobuf}\".");
        if (options.ServiceName is { } serviceName && string.IsNullOrWhiteSpace(serviceName))
            problems.Add("Telemetry:ServiceName must not be blank when set.");
        if (options.MetricExportInterval < TimeSpan.FromSeconds(1) || options.MetricExportInterval > TimeSpan.FromHours(1))
            problems.Add("Telemetry:MetricExportInterval must be between 1 s and 1 h.");
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
