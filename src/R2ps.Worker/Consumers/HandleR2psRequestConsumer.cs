using System.Diagnostics;
using System.Text.Json;
using MassTransit;
using Microsoft.Extensions.Logging;
using R2ps.Contracts;
using R2ps.Protocol;
using R2ps.Service;

namespace R2ps.Worker.Consumers;

/// <summary>
/// Runs one R2PS request envelope through the service core and responds with its status and body. The core never
/// throws: every protocol outcome, faults included, is an <see cref="R2psReply"/>. Only a message that breaks the
/// contract itself (no envelope) throws, which makes it a poison message: it goes to the error queue and the requester
/// gets a fault, which the client turns into SERVER_ERROR.
/// </summary>
/// <remarks>
/// A request carries the caller's deadline (its time-to-live = the client's <c>Messaging:RequestTimeout</c>). The broker
/// drops a request that expires while queued, but not one already handed to this worker (prefetched) — so the consumer
/// checks it too: an expired request is never processed (the caller already answered 503, and must not find that a
/// state change it was told failed happened anyway), and is answered SERVICE_UNAVAILABLE — the same answer the caller
/// gave itself, cheap, and it spares a caller whose clock runs behind ours its wait. A request still in time is
/// processed with a token that fires at the deadline, so no new step starts once the caller has stopped waiting.
/// The reply carries how long the request queued and how long its handling took, and of that how long it spent in store
/// calls, on the HSM and waiting for the saga (<see cref="R2psReplyHeaders"/>, <see cref="RequestTimeSplit"/>).
/// Hosts must keep their clocks in sync (as the envelope's <c>iat</c> check already requires).
/// </remarks>
public sealed partial class HandleR2psRequestConsumer(R2psRequestProcessor processor, TimeProvider time, ILogger<HandleR2psRequestConsumer> logger)
    : IConsumer<HandleR2psRequest>
{
    /// <summary>The longest a request may run, whatever its expiration says (request timeouts are validated to 5 min).</summary>
    internal static readonly TimeSpan MaxDeadline = TimeSpan.FromMinutes(5);

    internal static readonly R2psReply Expired = new(ErrorCode.ServiceUnavailable.HttpStatus(),
        JsonSerializer.Serialize(new ErrorBody(ErrorCode.ServiceUnavailable.ToWire(), "The request expired before a worker took it.")));

    /// <inheritdoc />
    public async Task Consume(ConsumeContext<HandleR2psRequest> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var envelope = context.Message.Envelope
            ?? throw new MalformedRequestMessageException($"The {nameof(HandleR2psRequest)} message carries no envelope.");

        var taken = time.GetUtcNow();
        var started = Stopwatch.GetTimestamp();
        var queued = context.SentTime is { } sent ? taken - Utc(sent) : (TimeSpan?)null;
        var remaining = context.ExpirationTime is { } expiration ? Utc(expiration) - taken : Timeout.InfiniteTimeSpan;
        if (remaining != Timeout.InfiniteTimeSpan && remaining <= TimeSpan.Zero)
        {
            LogExpired(-remaining.TotalMilliseconds);
            await context.RespondAsync(Expired, reply => StampTimes(reply, queued, Stopwatch.GetElapsedTime(started))).ConfigureAwait(false);
            return;
        }

        // A deadline further out than any request timeout means the clocks disagree (or a test moved ours): bound it, since a
        // timer cannot run for more than about 49 days and no request should run for more than a few minutes anyway.
        if (remaining > MaxDeadline) remaining = MaxDeadline;
        using var deadline = remaining == Timeout.InfiniteTimeSpan ? new CancellationTokenSource() : new CancellationTokenSource(remaining, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, deadline.Token);
        using var split = RequestTimeSplit.Begin();
        var reply = await processor.ProcessAsync(envelope, linked.Token).ConfigureAwait(false);
        var handling = Stopwatch.GetElapsedTime(started);
        await context.RespondAsync(new R2psReply(reply.Status, reply.Body), send => StampTimes(send, queued, handling, split)).ConfigureAwait(false);
    }

    /// <summary>Where the request's time went here (<see cref="R2psReplyHeaders"/>), for the sender's metrics.</summary>
    static void StampTimes(SendContext reply, TimeSpan? queued, TimeSpan handling, RequestTimeSplit? split = null)
    {
        // A sender whose clock runs ahead of ours would make the wait negative: reported as zero, not as a wait that
        // cannot be.
        if (queued is { } wait)
            reply.Headers.Set(R2psReplyHeaders.QueuedMicroseconds, Math.Max(0L, (long)wait.TotalMicroseconds));
        reply.Headers.Set(R2psReplyHeaders.HandlingMicroseconds, (long)handling.TotalMicroseconds);
        if (split is null) return;
        reply.Headers.Set(R2psReplyHeaders.StoreMicroseconds, (long)split.Store.TotalMicroseconds);
        reply.Headers.Set(R2psReplyHeaders.HsmMicroseconds, (long)split.Hsm.TotalMicroseconds);
        reply.Headers.Set(R2psReplyHeaders.SagaMicroseconds, (long)split.Saga.TotalMicroseconds);
    }

    static DateTimeOffset Utc(DateTime brokerTime) => new(DateTime.SpecifyKind(brokerTime, DateTimeKind.Utc));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dropped a request that expired {LateMs} ms before it was taken; answered SERVICE_UNAVAILABLE")]
    partial void LogExpired(double lateMs);
}

/// <summary>A request message that does not meet the message contract (as opposed to an envelope the protocol refuses).</summary>
public sealed class MalformedRequestMessageException : Exception
{
    /// <summary>Creates the exception.</summary>
    public MalformedRequestMessageException() : base("The request message is malformed.") { }

    /// <summary>Creates the exception with a message.</summary>
    public MalformedRequestMessageException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and cause.</summary>
    public MalformedRequestMessageException(string message, Exception innerException) : base(message, innerException) { }
}
