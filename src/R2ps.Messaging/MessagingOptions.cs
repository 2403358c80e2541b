namespace R2ps.Messaging;

/// <summary>How this process reaches the other roles (configuration section <c>Messaging</c>).</summary>
public sealed class MessagingOptions
{
    /// <summary>The configuration section bound to these options.</summary>
    public const string SectionName = "Messaging";

    /// <summary><see cref="MessagingTransports.InMemory"/> (default: everything in one process) or <see cref="MessagingTransports.RabbitMq"/>.</summary>
    public string Transport { get; set; } = MessagingTransports.InMemory;

    /// <summary>
    /// How long <see cref="R2psServiceClient"/> waits for a worker's reply. Also the request message's time-to-live, so
    /// a request nobody took in time is dropped by the broker instead of being served to a caller that has left.
    /// </summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The contexts whose request queues (<c>r2ps-&lt;context&gt;</c>) the client may send to; others are refused before the broker.</summary>
    public IList<string> Contexts { get; set; } = [];

    /// <summary>
    /// Whether the host's start waits for the bus to connect. A worker does (it is useless without the broker, and a
    /// broker that stays unreachable past <see cref="StartTimeout"/> fails the start with a clear error); a BFF may not.
    /// </summary>
    public bool WaitUntilStarted { get; set; } = true;

    /// <summary>How long the host's start waits for the bus when <see cref="WaitUntilStarted"/>.</summary>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long the host's stop waits for messages in flight.</summary>
    public TimeSpan StopTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The contexts the client serves when none are configured.</summary>
    internal static readonly string[] DefaultContexts = ["hsm"];

    internal IReadOnlyList<string> EffectiveContexts => Contexts.Count == 0 ? DefaultContexts : [.. Contexts];
}

/// <summary>The values of <see cref="MessagingOptions.Transport"/> (case-insensitive).</summary>
public static class MessagingTransports
{
    /// <summary>MassTransit's in-memory transport: one process, nothing survives it.</summary>
    public const string InMemory = "inmemory";

    /// <summary>RabbitMQ at <see cref="RabbitMqOptions.Uri"/>.</summary>
    public const string RabbitMq = "rabbitmq";
}

/// <summary>The broker (configuration section <c>RabbitMq</c>), used when the transport is <see cref="MessagingTransports.RabbitMq"/>.</summary>
public sealed class RabbitMqOptions
{
    /// <summary>The configuration section bound to these options.</summary>
    public const string SectionName = "RabbitMq";

    /// <summary><c>amqp://user:password@host:port/vhost</c> (or <c>amqps://</c>); user, password, port and vhost are optional.</summary>
    public string? Uri { get; set; }

    /// <summary>How long one connection attempt may take.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>AMQP heartbeat: a dead broker connection is noticed within about twice this.</summary>
    public TimeSpan Heartbeat { get; set; } = TimeSpan.FromSeconds(10);
}
