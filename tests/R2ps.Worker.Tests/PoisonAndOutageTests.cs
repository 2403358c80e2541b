using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using MassTransit;
using R2ps.Contracts;

namespace R2ps.Worker.Tests;

/// <summary>
/// What the caller sees when things break: a poison request is parked in the error queue and answered SERVER_ERROR at
/// once; a broker that is down gives SERVICE_UNAVAILABLE within the client's bound, and service resumes when it is back.
/// </summary>
[Collection(WorkerClusterDefinition.Name)]
public sealed class PoisonAndOutageTests(WorkerCluster cluster)
{
    const string ErrorQueue = "r2ps-hsm_error";

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_request_message_without_an_envelope_goes_to_the_error_queue_and_the_caller_gets_server_error()
    {
        var before = await QueueDepthAsync(ErrorQueue);

        var reply = await cluster.Client.SendMessageAsync(WorkerCluster.Context, new HandleR2psRequest(null!), Ct);

        // Answered by the fault, not by the client's timeout: that would be 503 SERVICE_UNAVAILABLE (a wall-clock bound here
        // would only measure the machine's load).
        Assert.Equal(500, reply.Status);
        Assert.Equal("SERVER_ERROR", ErrorCodeOf(reply));
        await WaitForQueueDepthAsync(ErrorQueue, before + 1);
        Assert.Equal(400, (await cluster.Client.SendAsync(WorkerCluster.Context, "still-serving", Ct)).Status);
    }

    [Fact]
    public async Task A_request_body_that_does_not_deserialize_goes_to_the_error_queue_and_the_caller_gets_server_error()
    {
        var before = await QueueDepthAsync(ErrorQueue);

        var reply = await cluster.Client.SendMessageAsync(WorkerCluster.Context, new MistypedR2psRequest([1, 2, 3]), Ct);

        Assert.Equal(500, reply.Status);
        Assert.Equal("SERVER_ERROR", ErrorCodeOf(reply));
        await WaitForQueueDepthAsync(ErrorQueue, before + 1);
        Assert.Equal(400, (await cluster.Client.SendAsync(WorkerCluster.Context, "still-serving", Ct)).Status);
    }

    [Fact]
    public async Task With_the_broker_down_the_caller_gets_service_unavailable_within_the_bound_and_service_resumes_when_it_is_back()
    {
        Assert.Equal(400, (await cluster.Client.SendAsync(WorkerCluster.Context, "before-the-outage", Ct)).Status);
        await cluster.Node.StopBrokerAsync(Ct);
        try
        {
            var clock = Stopwatch.StartNew();
            var reply = await cluster.Client.SendAsync(WorkerCluster.Context, "during-the-outage", Ct);

            Assert.Equal(503, reply.Status);
            Assert.Equal("SERVICE_UNAVAILABLE", ErrorCodeOf(reply));
            // The bound is the client's timeout plus its hard-bound grace; the slack above it is for a loaded machine, not a
            // promise. What matters: an answer, not a hang until the test's own cancellation.
            Assert.True(clock.Elapsed < WorkerCluster.ClientTimeout + TimeSpan.FromSeconds(15), $"Answered after {clock.Elapsed.TotalSeconds:0.00} s.");
        }
        finally
        {
            await cluster.Node.StartBrokerAsync(Ct);
        }

        // Clients and workers reconnect by themselves; the quorum queue and its binding survived.
        var recovery = Stopwatch.StartNew();
        while (true)
        {
            var reply = await cluster.Client.SendAsync(WorkerCluster.Context, "after-the-outage", Ct);
            if (reply.Status == 400)
                break;
            Assert.Equal(503, reply.Status);
            if (recovery.Elapsed > TimeSpan.FromSeconds(60))
                Assert.Fail($"No recovery within 60 s.{Environment.NewLine}{cluster.WorkerOutput()}");
        }

        // Every endpoint of both workers back, the saga's included (each reconnects on its own), before the next test.
        await cluster.WarmUpAsync();
    }

    static string? ErrorCodeOf(R2psReply reply) => JsonDocument.Parse(reply.Body).RootElement.GetProperty("error_code").GetString();

    async Task<int> QueueDepthAsync(string queue)
    {
        var output = await cluster.Node.RunCtlAsync(["list_queues", "name", "messages", "--quiet", "--no-table-headers"], Ct);
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = line.Split('\t', StringSplitOptions.TrimEntries);
            if (parts.Length == 2 && parts[0] == queue)
                return int.Parse(parts[1], CultureInfo.InvariantCulture);
        }

        return 0;
    }

    async Task WaitForQueueDepthAsync(string queue, int expected)
    {
        var clock = Stopwatch.StartNew();
        int depth;
        while ((depth = await QueueDepthAsync(queue)) < expected && clock.Elapsed < TimeSpan.FromSeconds(60))
            await Task.Delay(100, Ct);
        // At least: under load the depth was once seen one higher (cause not confirmed; a poison redelivered after the
        // outage test's broker restart is the suspect). What matters here is that this message reached the error queue.
        Assert.True(depth >= expected, $"The error queue holds {depth} messages; expected at least {expected}.");
    }
}

/// <summary>
/// Claims to be a <see cref="HandleR2psRequest"/> (same message URN) but carries numbers where the envelope string
/// belongs: the worker cannot deserialize it.
/// </summary>
[MessageUrn("R2ps.Contracts:HandleR2psRequest")]
public sealed record MistypedR2psRequest(IReadOnlyList<int> Envelope);
