using System.Text.Json;

namespace R2ps.Cli.Tests;

[Collection(nameof(SharedConsole))]
public class DemoCommandTests
{
    [Fact]
    public async Task Demo_runs_the_whole_flow_through_the_bff_on_a_fresh_data_folder_and_again_on_the_same_one()
    {
        var data = Directory.CreateTempSubdirectory("r2ps-demo-test-");
        try
        {
            foreach (var run in new[] { "fresh", "reused" })
            {
                var (exit, output, error) = await CliRunner.RunAsync("demo", "--data", data.FullName, "--ttl", "1", "--json");

                Assert.True(exit == 0, $"{run} run: {error}");
                using var json = JsonDocument.Parse(output);
                var steps = json.RootElement.GetProperty("steps").EnumerateArray()
                    .Select(s => (Name: s.GetProperty("name").GetString()!, Result: s.GetProperty("result").GetString()!)).ToList();
                Assert.Equal(14, steps.Count);
                Assert.Contains(steps, s => s.Name.StartsWith("Vault: read it back in a new login session", StringComparison.Ordinal) && s.Result.Contains("identical to what was stored", StringComparison.Ordinal));
                Assert.Contains(json.RootElement.GetProperty("audit").EnumerateArray(), e => e.GetProperty("type").GetString() == "secret_store" && e.GetProperty("outcome").GetString() == "OK");
                Assert.StartsWith("http://127.0.0.1:", json.RootElement.GetProperty("bff").GetString(), StringComparison.Ordinal);
                Assert.Contains(steps, s => s.Name == "Device session (HPKE mode_auth)" && s.Result.Contains("confirmation JWE opened", StringComparison.Ordinal));
                Assert.Contains(steps, s => s.Result.Contains("signature verified", StringComparison.Ordinal));
                Assert.Contains(steps, s => s.Result.Contains("shared secret equals", StringComparison.Ordinal));
                Assert.Contains(steps, s => s.Name.StartsWith("Close", StringComparison.Ordinal) && s.Result.Contains("ACCESS_DENIED", StringComparison.Ordinal));
                Assert.Contains(steps, s => s.Name.StartsWith("Leave it to expire", StringComparison.Ordinal) && s.Result.Contains("ACCESS_DENIED", StringComparison.Ordinal));
            }
            Assert.True(File.Exists(Path.Combine(data.FullName, "r2ps.db")));
            Assert.True(File.Exists(Path.Combine(data.FullName, "bff.db")));
        }
        finally
        {
            data.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Demo_refuses_an_out_of_range_ttl()
    {
        var (exit, _, error) = await CliRunner.RunAsync("demo", "--ttl", "0");
        Assert.NotEqual(0, exit);
        Assert.Contains("--ttl", error, StringComparison.Ordinal);
    }
}

[Collection(nameof(SharedConsole))]
public class DemoOverRabbitMqTests
{
    [Fact]
    public async Task Demo_over_rabbitmq_runs_the_flow_with_two_separate_worker_processes()
    {
        await using var node = await R2ps.Tools.RabbitMq.RabbitMqNode.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        var data = Directory.CreateTempSubdirectory("r2ps-demo-rabbitmq-test-");
        try
        {
            var (exit, output, error) = await CliRunner.RunAsync("demo", "--data", data.FullName, "--ttl", "1", "--broker", "rabbitmq",
                "--rabbitmq", node.AmqpUri.ToString(), "--workers", "2", "--json");

            Assert.True(exit == 0, error);
            using var json = JsonDocument.Parse(output);
            Assert.Equal("rabbitmq", json.RootElement.GetProperty("broker").GetString());
            Assert.Equal(2, json.RootElement.GetProperty("workers").GetInt32());
            var results = json.RootElement.GetProperty("steps").EnumerateArray().Select(s => s.GetProperty("result").GetString()!).ToList();
            Assert.Equal(14, results.Count);
            Assert.Contains(results, r => r.Contains("signature verified", StringComparison.Ordinal));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            data.Delete(recursive: true);
        }
    }
}
