namespace R2ps.Tools.RabbitMq;

/// <summary>How <see cref="RabbitMqNode.StartAsync"/> gets a broker.</summary>
public sealed class RabbitMqNodeOptions
{
    /// <summary>Start the management plugin (UI and HTTP API on <see cref="RabbitMqNode.ManagementPort"/>). Slower.</summary>
    public bool EnableManagement { get; set; }

    /// <summary>
    /// Always start a private node, even when <c>R2PS_RABBITMQ_URI</c> names a broker: for tests that stop and restart
    /// the broker, which an external one cannot do.
    /// </summary>
    public bool RequirePrivateNode { get; set; }

    /// <summary>Start of the private node's Erlang name (a random suffix follows), e.g. <c>r2ps-test</c> or <c>r2ps-bench</c>.</summary>
    public string NodeNamePrefix { get; set; } = "r2ps-test";

    /// <summary>Longest wait for the node to accept connections.</summary>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Longest wait for a graceful stop before the node is killed.</summary>
    public TimeSpan StopTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The directory holding <c>rabbitmq-server</c> and <c>rabbitmqctl</c>; default: the <c>R2PS_RABBITMQ_BIN</c>
    /// environment variable, else Debian's <c>/usr/lib/rabbitmq/bin</c> (the scripts themselves, not the
    /// <c>/usr/sbin</c> wrappers, which switch to the <c>rabbitmq</c> user when run as root).
    /// </summary>
    public string? BinDirectory { get; set; }
}
