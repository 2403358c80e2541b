namespace R2ps.Worker.Tests;

/// <summary>A worker with a bad configuration fails at boot, with exit code 1 and one clear line naming the problem.</summary>
[Collection(WorkerClusterDefinition.Name)]
public sealed class WorkerStartupTests(WorkerCluster cluster)
{
    static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_wrong_hsm_pin_fails_the_start_before_the_bus_connects()
    {
        var output = await FailedStartAsync(new Dictionary<string, string> { ["R2PS_HSM_PIN"] = "not-the-pin" });

        Assert.Contains("R2PS worker failed to start: HsmConfigurationException", output, StringComparison.Ordinal);
        Assert.DoesNotContain("not-the-pin", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Bus started", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_token_label_fails_the_start()
    {
        var output = await FailedStartAsync(new Dictionary<string, string> { ["Hsm__TokenLabel"] = "no-such-token" });

        Assert.Contains("R2PS worker failed to start: HsmConfigurationException", output, StringComparison.Ordinal);
        Assert.Contains("no-such-token", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_broker_uri_that_is_not_amqp_fails_the_start()
    {
        var output = await FailedStartAsync(new Dictionary<string, string> { ["RabbitMq__Uri"] = "http://127.0.0.1:5672/" });

        Assert.Contains("RabbitMq:Uri must be an absolute amqp:// or amqps:// URI", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_transport_fails_the_start()
    {
        var output = await FailedStartAsync(new Dictionary<string, string> { ["Messaging__Transport"] = "carrier-pigeon" });

        Assert.Contains("Messaging:Transport must be 'inmemory' or 'rabbitmq'", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_store_connection_string_fails_the_start()
    {
        var output = await FailedStartAsync(new Dictionary<string, string> { ["Store__ConnectionString"] = "" });

        Assert.Contains("R2PS worker failed to start: OptionsValidationException", output, StringComparison.Ordinal);
        Assert.Contains("Store:ConnectionString", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_worker_context_fails_the_start()
    {
        var output = await FailedStartAsync(new Dictionary<string, string> { ["Worker__Context"] = "Not A Queue" });

        Assert.Contains("Worker:Context must be", output, StringComparison.Ordinal);
    }

    async Task<string> FailedStartAsync(IReadOnlyDictionary<string, string> overrides)
    {
        await using var worker = cluster.StartStandaloneWorker("worker-misconfigured", overrides);
        var exitCode = await worker.WaitForExitAsync(ExitTimeout);
        Assert.True(exitCode == 1, $"Exit code {exitCode}.{Environment.NewLine}{worker.Output}");
        // The whole output, or a DoesNotContain on it would prove nothing about the lines dropped.
        Assert.Equal(0, worker.DroppedLines);
        return worker.Output;
    }
}
