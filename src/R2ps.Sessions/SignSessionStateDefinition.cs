using MassTransit;
using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using R2ps.Contracts;
using R2ps.Store;

namespace R2ps.Sessions;

/// <summary>
/// Endpoint policy of the sign-session saga: messages of one session are partitioned by correlation id (so they do not
/// fight over the row inside one process), a <see cref="DbUpdateConcurrencyException"/> — a write that lost to another
/// process — and a lost lock race (SQLite still busy after the busy timeout, a PostgreSQL serialization failure or deadlock) re-run the message, and replies/events wait in an
/// in-memory outbox until the row is written.
/// </summary>
public sealed class SignSessionStateDefinition : SagaDefinition<SignSessionState>
{
    readonly int _concurrencyLimit;
    readonly TimeSpan _slowMessageThreshold;
    readonly ILoggerFactory _loggerFactory;

    /// <summary>Takes the concurrency limit and the slow-message threshold from <see cref="SignSessionOptions"/>.</summary>
    public SignSessionStateDefinition(IOptions<SignSessionOptions> options, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _concurrencyLimit = options.Value.ConcurrencyLimit;
        _slowMessageThreshold = options.Value.SlowMessageThreshold;
        _loggerFactory = loggerFactory;
        ConcurrentMessageLimit = _concurrencyLimit;
    }

    /// <inheritdoc />
    protected override void ConfigureSaga(IReceiveEndpointConfigurator endpointConfigurator,
        ISagaConfigurator<SignSessionState> sagaConfigurator, IRegistrationContext context)
    {
        ArgumentNullException.ThrowIfNull(endpointConfigurator);
        ArgumentNullException.ThrowIfNull(sagaConfigurator);

        // Outermost (endpoint level, around the retry and the partitioner): one warning for a slow message.
        endpointConfigurator.UseFilter(new SlowSagaMessageLog(_slowMessageThreshold, _loggerFactory.CreateLogger<SlowSagaMessageLog>()));

        // Retry only lost races — optimistic concurrency, or a lock race RelationalDatabase.IsTransient recognises;
        // anything else is a real fault (error queue, fault reply). The intervals add up to well under the saga's
        // request timeout.
        endpointConfigurator.UseMessageRetry(retry =>
        {
            retry.Handle<DbUpdateConcurrencyException>();
            retry.Handle<DbUpdateException>(RelationalDatabase.IsTransient);
            retry.Handle<DbException>(RelationalDatabase.IsTransient);
            retry.Intervals(10, 25, 50, 100, 200, 400);
        });
        // Inside the retry: a failed attempt's replies and events are dropped, a successful one's sent after its save.
        endpointConfigurator.UseInMemoryOutbox(context);
        // Inside the retry and the partitioner: times each attempt for the slow-message log.
        endpointConfigurator.UseConsumeFilter(typeof(TimeSagaMessageAttempts<>), context);

        var partition = endpointConfigurator.CreatePartitioner(_concurrencyLimit);
        sagaConfigurator.Message<BeginSignSessionLogin>(m => m.UsePartitioner(partition, c => c.Message.SessionId));
        sagaConfigurator.Message<ActivateSignSession>(m => m.UsePartitioner(partition, c => c.Message.SessionId));
        sagaConfigurator.Message<CloseSignSession>(m => m.UsePartitioner(partition, c => c.Message.SessionId));
        sagaConfigurator.Message<ExpireSignSession>(m => m.UsePartitioner(partition, c => c.Message.SessionId));
    }
}
