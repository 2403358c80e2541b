using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using R2ps.Messaging;
using R2ps.Service.Ports;
using R2ps.Sessions;
using R2ps.Store;
using R2ps.Worker.Adapters;
using R2ps.Worker.Admin;
using R2ps.Worker.Consumers;

namespace R2ps.Worker.Hosting;

/// <summary>The worker's identity and its bus: the request consumer, the sign-session saga and its sweeper.</summary>
public static class WorkerExtensions
{
    /// <summary>The line a worker logs once it serves requests (tests and scripts wait for it).</summary>
    public const string StartedMessage = "R2PS worker started";

    /// <summary><see cref="WorkerOptions"/> (section <c>Worker</c>, validated at start) and a log line once the worker serves.</summary>
    public static IServiceCollection AddR2psWorkerIdentity(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<WorkerOptions>().Bind(configuration.GetSection(WorkerOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<WorkerOptions>, WorkerOptionsValidator>());
        services.AddHostedService<WorkerStartedLog>();
        return services;
    }

    /// <summary>
    /// The bus (<see cref="MessagingServiceCollectionExtensions.AddR2psMessaging"/>) with
    /// <see cref="HandleR2psRequestConsumer"/> and <see cref="GetServerKeyConsumer"/> on <c>r2ps-&lt;Worker:Context&gt;</c>, the
    /// lookup and admin consumers (<see cref="ClientAdministration"/>) on <c>r2ps-admin</c>, and the sign-session saga, its
    /// fan-out consumers and expiry sweeper (section <c>SignSessions</c>); plus the service core's session port over them.
    /// Call after the other registrations: the bus starts last, once the HSM, store and seed are ready.
    /// </summary>
    public static IServiceCollection AddR2psWorkerBus(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddHostedService<DatabaseWarmUp>();
        services.AddR2psMessaging(configuration, bus =>
        {
            bus.AddConsumer<HandleR2psRequestConsumer, HandleR2psRequestConsumerDefinition>();
            bus.AddConsumer<GetServerKeyConsumer, GetServerKeyConsumerDefinition>();
            bus.AddConsumer<GetDeviceKeyConsumer, GetDeviceKeyConsumerDefinition>();
            bus.AddConsumer<RegisterClientConsumer, RegisterClientConsumerDefinition>();
            bus.AddConsumer<IssueRegistrationCodeConsumer, IssueRegistrationCodeConsumerDefinition>();
            bus.AddConsumer<RevokeClientConsumer, RevokeClientConsumerDefinition>();
            bus.AddConsumer<GetClientStatusConsumer, GetClientStatusConsumerDefinition>();
            bus.AddSignSessions();
        });
        services.AddReceiveObserver(provider =>
            new AnswerUnreadableRequestObserver(R2psQueues.RequestQueue(provider.GetRequiredService<IOptions<WorkerOptions>>().Value.Context)));
        services.TryAddSingleton<ISignSessionGateway, SignSessionGateway>();
        services.TryAddSingleton<ClientAdministration>();
        return services;
    }
}

/// <summary>
/// Runs one read on the store and one on the saga table before the bus starts: an unreachable database fails the start,
/// and the first request or expiry after a (re)start does not pay for building the EF Core models.
/// </summary>
internal sealed class DatabaseWarmUp(IClientRegistry clients, ISignSessionReader sessions) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await clients.FindAsync("warm-up", "warm-up", cancellationToken).ConfigureAwait(false);
        await sessions.FindAsync(Guid.Empty, cancellationToken).ConfigureAwait(false);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Logs <see cref="WorkerExtensions.StartedMessage"/> once every hosted service, the bus included, has started.</summary>
internal sealed partial class WorkerStartedLog(IHostApplicationLifetime lifetime, IOptions<WorkerOptions> options, ILogger<WorkerStartedLog> logger)
    : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var worker = options.Value;
        var workerId = worker.ResolvedId;
        var queue = R2psQueues.RequestQueue(worker.Context);
        lifetime.ApplicationStarted.Register(() => LogStarted(workerId, worker.Context, queue));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = WorkerExtensions.StartedMessage + ": worker {WorkerId}, context {Context}, queue {Queue}")]
    partial void LogStarted(string workerId, string context, string queue);
}
