namespace R2ps.Messaging;

/// <summary>Names of the R2PS request queues: one per context, <c>r2ps-&lt;context&gt;</c> (kebab-case, e.g. <c>r2ps-hsm</c>).</summary>
public static class R2psQueues
{
    /// <summary>The longest context name accepted (queue names are at most 255 bytes; leave room for <c>_error</c> etc.).</summary>
    public const int MaxContextLength = 64;

    /// <summary>The queue prefix.</summary>
    public const string Prefix = "r2ps-";

    /// <summary>Whether <paramref name="context"/> can name a queue: 1–64 characters of a–z, 0–9 and '-', not starting with '-'.</summary>
    public static bool IsValidContext(string? context) =>
        !string.IsNullOrEmpty(context)
        && context.Length <= MaxContextLength
        && context[0] != '-'
        && context.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-');

    /// <summary>The request queue of <paramref name="context"/>, e.g. <c>r2ps-hsm</c>.</summary>
    /// <exception cref="ArgumentException">The context cannot name a queue.</exception>
    public static string RequestQueue(string context) =>
        IsValidContext(context)
            ? Prefix + context
            : throw new ArgumentException($"A context is 1–{MaxContextLength} characters of a–z, 0–9 and '-'.", nameof(context));

    /// <summary>
    /// The address a request is sent to: <c>exchange:r2ps-&lt;context&gt;</c>, the exchange the workers' endpoint binds
    /// to its queue. Not <c>queue:</c>: a sender would then declare the queue itself, with its own idea of the queue's
    /// arguments, and RabbitMQ refuses that declaration when the workers made it a quorum queue.
    /// </summary>
    public static Uri RequestAddress(string context) => new($"exchange:{RequestQueue(context)}");

    /// <summary>
    /// The queue every worker hosts for lookups and administration (<c>GetDeviceKey</c>, <c>RegisterClient</c>, …): they
    /// concern the shared store, not one context.
    /// </summary>
    public const string AdminQueue = "r2ps-admin";

    /// <summary>The address of <see cref="AdminQueue"/>: its exchange, for the reason given at <see cref="RequestAddress"/>.</summary>
    public static Uri AdminAddress { get; } = new($"exchange:{AdminQueue}");
}
