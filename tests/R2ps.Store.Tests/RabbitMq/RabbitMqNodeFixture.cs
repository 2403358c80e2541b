using Xunit;

using R2ps.Tools.RabbitMq;

namespace R2ps.Store.Tests.RabbitMq;

/// <summary>
/// An xunit class or collection fixture holding one <see cref="RabbitMqNode"/> for its tests:
/// <c>R2PS_RABBITMQ_URI</c>'s broker if set, else a private node. Tests that stop the broker should use
/// <see cref="PrivateRabbitMqNodeFixture"/>.
/// </summary>
public class RabbitMqNodeFixture : IAsyncLifetime
{
    private RabbitMqNode? _node;

    /// <summary>The broker; available once the fixture is initialised.</summary>
    public RabbitMqNode Node => _node ?? throw new InvalidOperationException("The fixture is not initialised.");

    /// <summary>Options for the node; override to ask for the management plugin or a private node.</summary>
    protected virtual RabbitMqNodeOptions Options => new();

    /// <inheritdoc />
    public async ValueTask InitializeAsync() => _node = await RabbitMqNode.StartAsync(Options).ConfigureAwait(false);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_node is not null)
        {
            await _node.DisposeAsync().ConfigureAwait(false);
        }

        GC.SuppressFinalize(this);
    }
}

/// <summary>A fixture whose node is always private, so tests may stop and restart it.</summary>
public class PrivateRabbitMqNodeFixture : RabbitMqNodeFixture
{
    /// <inheritdoc />
    protected override RabbitMqNodeOptions Options => new() { RequirePrivateNode = true };
}
