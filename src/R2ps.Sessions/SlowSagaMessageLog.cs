using System.Diagnostics;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace R2ps.Sessions;

/// <summary>
/// Logs a saga message whose time from send to handled reached <see cref="SignSessionOptions.SlowMessageThreshold"/>,
/// split into the wait before this endpoint took it (broker queue, prefetch), the time inside its attempts (concurrency
/// slot, database, state machine; counted by <see cref="TimeSagaMessageAttempts{T}"/>) and the rest (partition waits and
/// retry delays), with the thread pool's state: a command that outlasts the caller's <c>RequestTimeout</c> turns a login
/// or close into SERVICE_UNAVAILABLE, and the split says whether the broker, the database or the process was slow. An
/// endpoint-level filter, so it wraps the retry and the partitioner.
/// </summary>
public sealed partial class SlowSagaMessageLog(TimeSpan threshold, ILogger logger) : IFilter<ConsumeContext>
{
    /// <inheritdoc />
    public async Task Send(ConsumeContext context, IPipe<ConsumeContext> next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var takenAt = DateTime.UtcNow;
        var started = Stopwatch.GetTimestamp();
        var attempts = context.GetOrAddPayload(() => new SagaMessageAttempts());
        try
        {
            await next.Send(context).ConfigureAwait(false);
        }
        finally
        {
            var handling = Stopwatch.GetElapsedTime(started);
            // SentTime is the sender's clock: on one host the same clock, across hosts it carries their skew.
            var waited = context.SentTime is { } sentAt && takenAt > sentAt ? takenAt - sentAt : TimeSpan.Zero;
            if (threshold > TimeSpan.Zero && waited + handling >= threshold)
            {
                var messageType = context.SupportedMessageTypes.FirstOrDefault() is { } urn ? urn[(urn.LastIndexOf(':') + 1)..] : "?";
                var inAttempts = attempts.Time;
                LogSlow(messageType, (long)waited.TotalMilliseconds, (long)handling.TotalMilliseconds, attempts.Count,
                    (long)inAttempts.TotalMilliseconds, (long)Math.Max(0, (handling - inAttempts).TotalMilliseconds),
                    ThreadPool.ThreadCount, ThreadPool.PendingWorkItemCount);
            }
        }
    }

    /// <inheritdoc />
    public void Probe(ProbeContext context) => context?.CreateFilterScope("slowSagaMessageLog");

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Slow saga message {MessageType}: {WaitedMs} ms queued before this endpoint took it, {HandledMs} ms to handle " +
                  "(attempts: {Attempts}, {AttemptsMs} ms inside them, {OtherMs} ms in partition waits and retry delays); " +
                  "thread pool: {Threads} threads, {PendingWorkItems} work items queued")]
    partial void LogSlow(string messageType, long waitedMs, long handledMs, int attempts, long attemptsMs, long otherMs,
        int threads, long pendingWorkItems);
}

/// <summary>The attempts of one saga message and the time spent in them (for <see cref="SlowSagaMessageLog"/>).</summary>
public sealed class SagaMessageAttempts
{
    int _count;
    long _ticks;

    /// <summary>Attempts so far.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Time spent inside the attempts so far.</summary>
    public TimeSpan Time => TimeSpan.FromTicks(Volatile.Read(ref _ticks));

    internal void Add(TimeSpan time)
    {
        Interlocked.Increment(ref _count);
        Interlocked.Add(ref _ticks, time.Ticks);
    }
}

/// <summary>
/// Inside the retry and the partitioner: times each attempt of a saga message into the <see cref="SagaMessageAttempts"/>
/// of <see cref="SlowSagaMessageLog"/>.
/// </summary>
/// <typeparam name="T">The message type.</typeparam>
public sealed class TimeSagaMessageAttempts<T> : IFilter<ConsumeContext<T>>
    where T : class
{
    /// <inheritdoc />
    public async Task Send(ConsumeContext<T> context, IPipe<ConsumeContext<T>> next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var started = Stopwatch.GetTimestamp();
        try
        {
            await next.Send(context).ConfigureAwait(false);
        }
        finally
        {
            if (context.TryGetPayload(out SagaMessageAttempts? attempts))
                attempts.Add(Stopwatch.GetElapsedTime(started));
        }
    }

    /// <inheritdoc />
    public void Probe(ProbeContext context) => context?.CreateFilterScope("timeSagaMessageAttempts");
}
