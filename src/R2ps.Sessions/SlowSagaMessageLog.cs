using System.Diagnostics;
using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace R2ps.Sessions;

/// <summary>
/// Logs a saga message whose time from send to handled passed <see cref="SignSessionOptions.SlowMessageThreshold"/>,
/// split into the wait before this endpoint took it (queue, prefetch, partition) and the handling (every retry attempt,
/// database included), with the thread pool's state: a command that outlasts the caller's <c>RequestTimeout</c> turns a
/// login or close into SERVICE_UNAVAILABLE, and the split says whether the broker, the database or a starved process
/// was slow. Sits outside the retry, so a retried message is logged once with all its attempts.
/// </summary>
/// <typeparam name="T">The message type.</typeparam>
public sealed partial class SlowSagaMessageLog<T>(IOptions<SignSessionOptions> options, ILogger<SlowSagaMessageLog<T>> logger)
    : IFilter<ConsumeContext<T>>
    where T : class
{
    readonly TimeSpan _threshold = options.Value.SlowMessageThreshold;

    /// <inheritdoc />
    public async Task Send(ConsumeContext<T> context, IPipe<ConsumeContext<T>> next)
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
            if (_threshold > TimeSpan.Zero && waited + handling >= _threshold)
                LogSlow(typeof(T).Name, (long)waited.TotalMilliseconds, (long)handling.TotalMilliseconds, attempts.Count,
                    ThreadPool.ThreadCount, ThreadPool.PendingWorkItemCount);
        }
    }

    /// <inheritdoc />
    public void Probe(ProbeContext context) => context?.CreateFilterScope("slowSagaMessageLog");

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Slow saga message {MessageType}: waited {WaitedMs} ms before this endpoint took it, handled in {HandledMs} ms " +
                  "({Attempts} attempts); thread pool: {Threads} threads, {PendingWorkItems} work items queued")]
    partial void LogSlow(string messageType, long waitedMs, long handledMs, int attempts, int threads, long pendingWorkItems);
}

/// <summary>How many times the retry ran a saga message (counted by <see cref="CountSagaMessageAttempts{T}"/>).</summary>
public sealed class SagaMessageAttempts
{
    int _count;

    /// <summary>Attempts so far.</summary>
    public int Count => Volatile.Read(ref _count);

    internal void Add() => Interlocked.Increment(ref _count);
}

/// <summary>Inside the retry: counts each attempt into the <see cref="SagaMessageAttempts"/> of <see cref="SlowSagaMessageLog{T}"/>.</summary>
/// <typeparam name="T">The message type.</typeparam>
public sealed class CountSagaMessageAttempts<T> : IFilter<ConsumeContext<T>>
    where T : class
{
    /// <inheritdoc />
    public Task Send(ConsumeContext<T> context, IPipe<ConsumeContext<T>> next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        if (context.TryGetPayload(out SagaMessageAttempts? attempts))
            attempts.Add();
        return next.Send(context);
    }

    /// <inheritdoc />
    public void Probe(ProbeContext context) => context?.CreateFilterScope("countSagaMessageAttempts");
}
