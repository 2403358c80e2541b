using MassTransit;
using Microsoft.Extensions.Options;
using R2ps.Hsm;
using R2ps.Messaging;

namespace R2ps.Worker.Consumers;

/// <summary>
/// Endpoint policy of the request queue <c>r2ps-&lt;context&gt;</c>:
/// <list type="bullet">
/// <item>Concurrency limit = the HSM session pool (<see cref="HsmOptions.SessionPoolSize"/>) unless configured: more
/// requests at once would only queue for an HSM session inside the process, invisible to the broker, while another
/// worker could have taken them. Prefetch = the concurrency limit, for the same reason.</item>
/// <item>No message retry, on purpose: the envelope's nonce is consumed on first processing, so a retry would come back
/// as a replay (ACCESS_DENIED) — or worse, repeat a state change. A failure is answered once.</item>
/// <item>A poison message (the consumer throws, or the body does not deserialize) is moved to <c>r2ps-&lt;context&gt;_error</c>
/// on its first delivery, and the requester is answered at once instead of waiting for its timeout: MassTransit sends a
/// consumer's fault to the response address, and <see cref="AnswerUnreadableRequestObserver"/> answers a body that
/// does not deserialize (which never reaches the consumer); the client turns both into SERVER_ERROR.</item>
/// <item>RabbitMQ: a durable <b>quorum</b> queue by default (<see cref="WorkerOptions.QueueType"/>): it is replicated when
/// the broker is a cluster, and its delivery limit (<see cref="WorkerOptions.DeliveryLimit"/>) stops the one kind of
/// poison MassTransit cannot move — a request that crashes the process (e.g. inside the PKCS#11 module) — from being
/// redelivered to every worker in turn forever. Requests carry a time-to-live equal to the client's timeout, which quorum
/// queues honour since RabbitMQ 3.10, so nothing stale is served after an outage. <c>classic</c> (durable) remains for
/// brokers where the queue already exists as classic: RabbitMQ refuses to redeclare a queue with another type.</item>
/// </list>
/// </summary>
public sealed class HandleR2psRequestConsumerDefinition : ConsumerDefinition<HandleR2psRequestConsumer>
{
    readonly WorkerOptions _worker;
    readonly int _prefetch;

    /// <summary>Sizes the endpoint from <see cref="WorkerOptions"/> and <see cref="HsmOptions"/>.</summary>
    public HandleR2psRequestConsumerDefinition(IOptions<WorkerOptions> worker, IOptions<HsmOptions> hsm)
    {
        ArgumentNullException.ThrowIfNull(worker);
        ArgumentNullException.ThrowIfNull(hsm);
        _worker = worker.Value;
        var concurrency = _worker.ConcurrencyLimit > 0
            ? _worker.ConcurrencyLimit
            : Math.Max(1, hsm.Value.SessionPoolSize) * WorkerOptions.DefaultRequestsPerHsmSession;
        _prefetch = _worker.PrefetchCount > 0 ? _worker.PrefetchCount : concurrency;
        EndpointName = R2psQueues.RequestQueue(_worker.Context);
        ConcurrentMessageLimit = concurrency;
    }

    /// <inheritdoc />
    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<HandleR2psRequestConsumer> consumerConfigurator, IRegistrationContext context)
    {
        ArgumentNullException.ThrowIfNull(endpointConfigurator);
        endpointConfigurator.PrefetchCount = _prefetch;
        // Deliberately no UseMessageRetry / redelivery here (see the class summary).
        if (endpointConfigurator is IRabbitMqReceiveEndpointConfigurator rabbit)
        {
            rabbit.Durable = true;
            rabbit.AutoDelete = false;
            if (_worker.QueueType == WorkerQueueTypes.Quorum)
            {
                rabbit.SetQuorumQueue();
                rabbit.SetQueueArgument("x-delivery-limit", _worker.DeliveryLimit);
            }
        }
    }
}
