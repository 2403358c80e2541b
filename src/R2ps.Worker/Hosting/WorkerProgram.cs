using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using R2ps.Telemetry;

namespace R2ps.Worker.Hosting;

/// <summary>Builds and runs the host; turns a start-up failure into a clear message on standard error and exit code 1.</summary>
public static class WorkerProgram
{
    /// <summary>
    /// Registers telemetry (section <c>Telemetry</c>) and the services with <paramref name="register"/>, runs the host until it stops; 0 on a clean stop, 1 when
    /// it could not be configured, built or started.
    /// </summary>
    public static async Task<int> RunAsync(string[] args, Action<IServiceCollection, IConfiguration> register)
    {
        ArgumentNullException.ThrowIfNull(register);
        try
        {
            var builder = Host.CreateApplicationBuilder(args);
            builder.Services.AddR2psTelemetry(builder.Configuration);
            register(builder.Services, builder.Configuration);
            using var host = builder.Build();
            await host.RunAsync().ConfigureAwait(false);
            return 0;
        }
#pragma warning disable CA1031 // The process boundary: any start-up failure is reported once, plainly, with a non-zero exit.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            await Console.Error.WriteLineAsync($"R2PS worker failed to start: {Describe(exception)}").ConfigureAwait(false);
            return 1;
        }
    }

    // Option and HSM exceptions carry the useful text (never secrets); wrappers add the chain of causes.
    internal static string Describe(Exception exception) => exception switch
    {
        AggregateException { InnerExceptions.Count: > 0 } aggregate => string.Join(" | ", aggregate.InnerExceptions.Select(Describe)),
        { InnerException: { } inner } => $"{exception.GetType().Name}: {exception.Message} <- {Describe(inner)}",
        _ => $"{exception.GetType().Name}: {exception.Message}",
    };
}
