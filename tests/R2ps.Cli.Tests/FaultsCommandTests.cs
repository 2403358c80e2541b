using System.Text.Json;

namespace R2ps.Cli.Tests;

[Collection(nameof(SharedConsole))]
public class FaultsCommandTests
{
    [Fact]
    public async Task A_worker_killed_while_wallets_sign_loses_no_answer_no_key_and_no_session_and_the_survivor_serves_the_rest()
    {
        // A private RabbitMQ node, two worker processes, the BFF; kill -9 of the first worker in the middle (issue 10 item 11).
        var (exit, output, error) = await CliRunner.RunAsync("faults", "worker-kill", "--wallets", "3", "--before", "2", "--after", "4",
            "--keys-per-wallet", "3", "--json");

        Assert.True(exit == 0, output + error);
        using var json = JsonDocument.Parse(output);
        var root = json.RootElement;
        Assert.Equal(0, root.GetProperty("unanswered").GetInt64());
        Assert.True(root.GetProperty("service_unavailable_share").GetDouble() <= 0.01);
        Assert.True(root.GetProperty("requests_after_recovery").GetInt64() > 0);
        Assert.Equal(0, root.GetProperty("failed_after_recovery").GetInt64());
        Assert.Equal(0, root.GetProperty("keys_lost").GetInt32());
        Assert.Equal(0, root.GetProperty("keys_duplicated").GetInt32());
        Assert.Equal(0, root.GetProperty("sessions_stuck").GetInt32());
        Assert.Equal(1, root.GetProperty("workers_alive").GetInt32());
        Assert.Empty(root.GetProperty("violations").EnumerateArray());
    }

    [Fact]
    public async Task A_drill_with_more_keys_than_the_service_allows_is_refused_before_anything_starts()
    {
        var (exit, _, error) = await CliRunner.RunAsync("faults", "worker-kill", "--keys-per-wallet", "10");

        Assert.NotEqual(0, exit);
        Assert.Contains("--keys-per-wallet must be between 0 and 9.", error, StringComparison.Ordinal);
    }
}
