using System.Text;
using R2ps.Tools.RabbitMq;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace R2ps.Store.Tests.RabbitMq;

/// <summary>The private broker node other test projects use: it starts, carries messages, goes down and comes back.</summary>
public sealed class RabbitMqNodeTests(PrivateRabbitMqNodeFixture fixture) : IClassFixture<PrivateRabbitMqNodeFixture>
{
    private RabbitMqNode Node => fixture.Node;

    private Task<IConnection> ConnectAsync() =>
        new ConnectionFactory { Uri = Node.AmqpUri, AutomaticRecoveryEnabled = false, RequestedConnectionTimeout = TimeSpan.FromSeconds(5) }
            .CreateConnectionAsync(TestContext.Current.CancellationToken);

    private static async Task PublishAsync(IChannel channel, string queue, string text, bool persistent = false)
    {
        var properties = new BasicProperties { Persistent = persistent };
        await channel.BasicPublishAsync(string.Empty, queue, mandatory: true, properties, Encoding.UTF8.GetBytes(text),
            TestContext.Current.CancellationToken);
    }

    private static async Task<string?> GetAsync(IChannel channel, string queue)
    {
        var result = await channel.BasicGetAsync(queue, autoAck: true, TestContext.Current.CancellationToken);
        return result is null ? null : Encoding.UTF8.GetString(result.Body.Span);
    }

    // Down and up again are steps of one story on one node, so they are one test (xunit runs a class's tests one by one).
    [Fact]
    public async Task Node_carries_messages_refuses_connections_while_down_and_recovers()
    {
        var ct = TestContext.Current.CancellationToken;
        Assert.False(Node.IsExternal);
        Assert.Equal("127.0.0.1", Node.AmqpUri.Host);
        Assert.Equal(Node.AmqpPort, Node.AmqpUri.Port);

        // A message round trip.
        await using (var connection = await ConnectAsync())
        await using (var channel = await connection.CreateChannelAsync(cancellationToken: ct))
        {
            await channel.QueueDeclareAsync("r2ps-test", durable: true, exclusive: false, autoDelete: false, cancellationToken: ct);
            await PublishAsync(channel, "r2ps-test", "hello");
            Assert.Equal("hello", await WaitForMessageAsync(channel, "r2ps-test"));
            await PublishAsync(channel, "r2ps-test", "survives restarts", persistent: true);
        }

        // Broker down: connections are refused.
        await Node.StopBrokerAsync(ct);
        await Assert.ThrowsAsync<BrokerUnreachableException>(ConnectAsync);

        // Broker back: the durable queue still holds the persistent message.
        await Node.StartBrokerAsync(ct);
        await using (var connection = await ConnectAsync())
        await using (var channel = await connection.CreateChannelAsync(cancellationToken: ct))
        {
            Assert.Equal("survives restarts", await WaitForMessageAsync(channel, "r2ps-test"));
            await PublishAsync(channel, "r2ps-test", "survives a node restart", persistent: true);
        }

        // Whole node restart on the same port and data; open connections drop.
        var connectionBefore = await ConnectAsync();
        await Node.RestartNodeAsync(ct);
        Assert.False(connectionBefore.IsOpen);
        await connectionBefore.DisposeAsync();
        await using (var connection = await ConnectAsync())
        await using (var channel = await connection.CreateChannelAsync(cancellationToken: ct))
        {
            Assert.Equal("survives a node restart", await WaitForMessageAsync(channel, "r2ps-test"));
        }
    }

    [Fact]
    public async Task Rabbitmqctl_reaches_the_private_node()
    {
        var output = await Node.RunCtlAsync(["list_queues", "name"], TestContext.Current.CancellationToken);

        Assert.Contains("Listing queues", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_server_gives_a_clear_error()
    {
        var empty = Directory.CreateTempSubdirectory("r2ps-no-rabbit-");
        try
        {
            var error = await Assert.ThrowsAsync<RabbitMqNodeException>(() => RabbitMqNode.StartAsync(
                new RabbitMqNodeOptions { RequirePrivateNode = true, BinDirectory = empty.FullName }, TestContext.Current.CancellationToken));

            Assert.Contains("apt-get install -y rabbitmq-server", error.Message, StringComparison.Ordinal);
            Assert.Contains(RabbitMqNode.UriVariable, error.Message, StringComparison.Ordinal);
        }
        finally
        {
            empty.Delete();
        }
    }

    private static async Task<string?> WaitForMessageAsync(IChannel channel, string queue)
    {
        // A publish is asynchronous; the message lands in the queue a moment later.
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (true)
        {
            var message = await GetAsync(channel, queue);
            if (message is not null || DateTime.UtcNow > deadline)
            {
                return message;
            }

            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }
}
