using MassTransit;
using Microsoft.Extensions.Options;
using R2ps.Contracts;
using R2ps.Messaging;
using R2ps.Service.Ports;

namespace R2ps.Worker.Admin;

/// <summary>Answers <see cref="GetServerKey"/> on the context's request queue with this worker's server key.</summary>
public sealed class GetServerKeyConsumer(IServerKeys serverKeys) : IConsumer<GetServerKey>
{
    /// <inheritdoc />
    public async Task Consume(ConsumeContext<GetServerKey> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        // The message arrived on r2ps-<context> of a context this worker serves; a mismatching body is a caller's bug.
        if (context.Message.Context is { } name && serverKeys.Find(name) is { } key)
            await context.RespondAsync(new ServerKeyFound(name, key.PublicKey.ToSpki())).ConfigureAwait(false);
        else
            await context.RespondAsync(new AdminRequestRefused("ACCESS_DENIED", "This worker does not serve that context.")).ConfigureAwait(false);
    }
}

/// <summary>Answers <see cref="GetDeviceKey"/> (the BFF's device-session lookup).</summary>
public sealed class GetDeviceKeyConsumer(ClientAdministration administration) : IConsumer<GetDeviceKey>
{
    /// <inheritdoc />
    public async Task Consume(ConsumeContext<GetDeviceKey> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        switch (await administration.FindDeviceKeyAsync(context.Message, context.CancellationToken).ConfigureAwait(false))
        {
            case DeviceKeyFound found:
                await context.RespondAsync(found).ConfigureAwait(false);
                break;
            case DeviceKeyNotFound notFound:
                await context.RespondAsync(notFound).ConfigureAwait(false);
                break;
        }
    }
}

/// <summary>Answers <see cref="RegisterClient"/>.</summary>
public sealed class RegisterClientConsumer(ClientAdministration administration) : IConsumer<RegisterClient>
{
    /// <inheritdoc />
    public async Task Consume(ConsumeContext<RegisterClient> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        await AdminReplies.RespondAsync<ClientRegistered>(context,
            await administration.RegisterAsync(context.Message, context.CancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
    }
}

/// <summary>Answers <see cref="IssueRegistrationCode"/>.</summary>
public sealed class IssueRegistrationCodeConsumer(ClientAdministration administration) : IConsumer<IssueRegistrationCode>
{
    /// <inheritdoc />
    public async Task Consume(ConsumeContext<IssueRegistrationCode> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        await AdminReplies.RespondAsync<RegistrationCodeIssued>(context,
            await administration.IssueCodeAsync(context.Message, context.CancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
    }
}

/// <summary>Answers <see cref="RevokeClient"/>.</summary>
public sealed class RevokeClientConsumer(ClientAdministration administration) : IConsumer<RevokeClient>
{
    /// <inheritdoc />
    public async Task Consume(ConsumeContext<RevokeClient> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        await AdminReplies.RespondAsync<ClientRevoked>(context,
            await administration.RevokeAsync(context.Message, context.CancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
    }
}

/// <summary>Answers <see cref="GetClientStatus"/>.</summary>
public sealed class GetClientStatusConsumer(ClientAdministration administration) : IConsumer<GetClientStatus>
{
    /// <inheritdoc />
    public async Task Consume(ConsumeContext<GetClientStatus> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        await context.RespondAsync(await administration.GetStatusAsync(context.Message, context.CancellationToken).ConfigureAwait(false))
            .ConfigureAwait(false);
    }
}

/// <summary>Responds with the typed outcome of an admin command.</summary>
static class AdminReplies
{
    public static Task RespondAsync<TSuccess>(ConsumeContext context, object outcome)
        where TSuccess : class => outcome switch
        {
            TSuccess success => context.RespondAsync(success),
            AdminRequestRefused refused => context.RespondAsync(refused),
            _ => throw new InvalidOperationException($"Unexpected admin outcome {outcome.GetType().Name}."),
        };
}

/// <summary>
/// <see cref="GetServerKeyConsumer"/> shares the context's request queue <c>r2ps-&lt;context&gt;</c> with the request
/// consumer (whose definition owns that endpoint's policy): whoever can send envelopes there can ask for its key.
/// </summary>
public sealed class GetServerKeyConsumerDefinition : ConsumerDefinition<GetServerKeyConsumer>
{
    /// <summary>Names the endpoint after <see cref="WorkerOptions.Context"/>.</summary>
    public GetServerKeyConsumerDefinition(IOptions<WorkerOptions> worker)
    {
        ArgumentNullException.ThrowIfNull(worker);
        EndpointName = R2psQueues.RequestQueue(worker.Value.Context);
    }
}

/// <summary>
/// The admin and lookup consumers share <c>r2ps-admin</c>, hosted by every worker (competing consumers, like the request
/// queue). No message retry: a registration is not idempotent, and the caller gets one answer. RabbitMQ: durable quorum
/// queue with a delivery limit, like the request queue.
/// </summary>
public abstract class AdminConsumerDefinition<TConsumer> : ConsumerDefinition<TConsumer>
    where TConsumer : class, IConsumer
{
    readonly WorkerOptions _worker;

    /// <summary>Puts the consumer on <see cref="R2psQueues.AdminQueue"/>.</summary>
    protected AdminConsumerDefinition(IOptions<WorkerOptions> worker)
    {
        ArgumentNullException.ThrowIfNull(worker);
        _worker = worker.Value;
        EndpointName = R2psQueues.AdminQueue;
    }

    /// <summary>Whether this definition sets the shared queue's arguments (exactly one of them does).</summary>
    protected virtual bool OwnsQueueSettings => false;

    /// <inheritdoc />
    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<TConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        ArgumentNullException.ThrowIfNull(endpointConfigurator);
        // The queue's settings are made once, by one definition: MassTransit refuses a second consumer re-setting them.
        // Durable and not auto-deleted are RabbitMQ endpoint defaults.
        if (OwnsQueueSettings && endpointConfigurator is IRabbitMqReceiveEndpointConfigurator rabbit)
        {
            if (_worker.QueueType == WorkerQueueTypes.Quorum)
            {
                rabbit.SetQuorumQueue();
                rabbit.SetQueueArgument("x-delivery-limit", _worker.DeliveryLimit);
            }
        }
    }
}

/// <summary>Endpoint of <see cref="GetDeviceKeyConsumer"/>; it sets the queue's RabbitMQ arguments for all of them.</summary>
public sealed class GetDeviceKeyConsumerDefinition(IOptions<WorkerOptions> worker) : AdminConsumerDefinition<GetDeviceKeyConsumer>(worker)
{
    /// <inheritdoc />
    protected override bool OwnsQueueSettings => true;
}

/// <summary>Endpoint of <see cref="RegisterClientConsumer"/>.</summary>
public sealed class RegisterClientConsumerDefinition(IOptions<WorkerOptions> worker) : AdminConsumerDefinition<RegisterClientConsumer>(worker);

/// <summary>Endpoint of <see cref="IssueRegistrationCodeConsumer"/>.</summary>
public sealed class IssueRegistrationCodeConsumerDefinition(IOptions<WorkerOptions> worker) : AdminConsumerDefinition<IssueRegistrationCodeConsumer>(worker);

/// <summary>Endpoint of <see cref="RevokeClientConsumer"/>.</summary>
public sealed class RevokeClientConsumerDefinition(IOptions<WorkerOptions> worker) : AdminConsumerDefinition<RevokeClientConsumer>(worker);

/// <summary>Endpoint of <see cref="GetClientStatusConsumer"/>.</summary>
public sealed class GetClientStatusConsumerDefinition(IOptions<WorkerOptions> worker) : AdminConsumerDefinition<GetClientStatusConsumer>(worker);
