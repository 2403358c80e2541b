using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using MassTransit;
using R2ps.Messaging;

namespace R2ps.Tools.Benchmarks;

/// <summary>The echo baseline's request and reply: a body about the size of a sign envelope.</summary>
public sealed record BenchEcho(string Body);

/// <summary>
/// The floor under <c>bench e2e</c>: bare MassTransit request/reply on the same broker, in the same run, with as many
/// requests in flight as there are wallets. One bus in this process, its consumer answering on a throw-away queue,
/// publisher confirms on as in every R2PS host. No HTTP, no crypto, no store: what a round trip through the broker costs —
/// on a transient classic queue, or (<c>quorum</c>) on a durable quorum queue like the workers' request queue, whose
/// messages the broker writes to its Raft log before it confirms them.
/// </summary>
public static class EchoBaseline
{
    /// <summary>About the size of a hsm_ecdsa request envelope.</summary>
    private const int BodyChars = 1200;

    /// <summary>How long an unused quorum echo queue outlives the run before the broker deletes it (quorum queues cannot auto-delete).</summary>
    private const int QuorumQueueExpiresMs = 60_000;

    internal static async Task<LoadResult> RunAsync(Uri broker, int inFlight, TimeSpan duration, Action<string> progress, CancellationToken cancellationToken,
        bool quorum = false)
    {
        if (!RabbitMqAddress.TryParse(broker.ToString(), out var address, out var error))
            throw new InvalidOperationException(error);
        var queue = "r2ps-bench-echo-" + Guid.NewGuid().ToString("N")[..8];
        var bus = Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.Host(address.Host, (ushort)address.Port, address.VirtualHost, host =>
            {
                host.Username(address.Username);
                host.Password(address.Password);
                host.PublisherConfirmation = true;
            });
            cfg.ReceiveEndpoint(queue, e =>
            {
                if (quorum)
                {
                    e.Durable = true;
                    e.AutoDelete = false;
                    e.SetQuorumQueue();
                    e.SetQueueArgument("x-expires", QuorumQueueExpiresMs);
                }
                else
                {
                    e.AutoDelete = true;
                    e.Durable = false;
                }

                e.Handler<BenchEcho>(context => context.RespondAsync(context.Message));
            });
        });
        var label = quorum ? "echo (quorum queue)" : "echo";
        progress($"{label}: bare MassTransit request/reply on the same broker, {inFlight} in flight for {duration.TotalSeconds:0.#} s");
        await bus.StartAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // The same durability flags as the endpoint: a send that declared the exchange durable would be refused by the broker.
            // The quorum queue is sent to through its exchange: a send to queue:… would declare the queue again, without the
            // x-expires it was made with, and the broker refuses an inequivalent declaration.
            var echoQueue = quorum ? new Uri($"exchange:{queue}") : new Uri($"queue:{queue}?durable=false&autodelete=true");
            var client = bus.CreateRequestClient<BenchEcho>(echoQueue, RequestTimeout.After(s: 10));
            var message = new BenchEcho(new string('e', BodyChars));
            for (var i = 0; i < 100; i++) // warm-up, not timed
                await client.GetResponse<BenchEcho>(message, cancellationToken).ConfigureAwait(false);

            var errors = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
            var start = Stopwatch.GetTimestamp();
            var deadline = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
            var loops = Enumerable.Range(0, inFlight).Select(_ => Task.Run(async () =>
            {
                var ticks = new List<long>();
                while (Stopwatch.GetTimestamp() < deadline)
                {
                    var began = Stopwatch.GetTimestamp();
                    try
                    {
                        await client.GetResponse<BenchEcho>(message, cancellationToken).ConfigureAwait(false);
                        ticks.Add(Stopwatch.GetTimestamp() - began);
                    }
                    catch (RequestTimeoutException)
                    {
                        errors.AddOrUpdate("CLIENT_TIMEOUT", 1, (_, n) => n + 1);
                    }
                }

                return ticks;
            }, cancellationToken)).ToArray();
            var recorded = await Task.WhenAll(loops).ConfigureAwait(false);
            var elapsed = Stopwatch.GetElapsedTime(start);
            var summary = LatencySummary.From([.. recorded.SelectMany(t => t)]);
            progress(string.Create(CultureInfo.InvariantCulture, $"{label}: {summary.Count / elapsed.TotalSeconds:N0} round trips/s"));
            return new LoadResult(elapsed, new Dictionary<string, LatencySummary>(StringComparer.Ordinal) { [Echo] = summary },
                new SortedDictionary<string, long>(errors, StringComparer.Ordinal));
        }
        finally
        {
            await bus.StopAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    public const string Echo = "echo";
}
