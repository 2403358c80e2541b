using System.Text.Json;

namespace R2ps.Cli.Tests;

[Collection(nameof(SharedConsole))]
public class BenchCommandTests
{
    [Fact]
    public async Task Bench_opaque_reports_the_login_to_scalar_multiplication_ratio()
    {
        var (exit, output, _) = await CliRunner.RunAsync("bench", "opaque", "--iterations", "3", "--json");

        Assert.Equal(0, exit);
        using var json = JsonDocument.Parse(output);
        var root = json.RootElement;
        Assert.Equal(3, root.GetProperty("iterations").GetInt32());
        Assert.True(root.GetProperty("server_login_ms").GetDouble() > 0);
        Assert.True(root.GetProperty("login_to_scalar_multiplication_ratio").GetDouble() > 0);
        // Which multiply the process uses, and BouncyCastle's own timed beside it (the ratio between the two).
        Assert.Contains(root.GetProperty("scalar_multiplier").GetString(), new[] { "OpenSSL", "BouncyCastle" });
        Assert.True(root.GetProperty("bouncycastle_scalar_multiplication_ms").GetDouble() > 0);
    }

    [Fact]
    public async Task Bench_opaque_refuses_a_zero_iteration_count()
    {
        var (exit, _, error) = await CliRunner.RunAsync("bench", "opaque", "--iterations", "0");
        Assert.NotEqual(0, exit);
        Assert.Contains("--iterations", error, StringComparison.Ordinal);
    }
}

[Collection(nameof(SharedConsole))]
public class BenchHsmCommandTests
{
    [Fact]
    public async Task Bench_hsm_measures_a_throw_away_softhsm_token_and_reports_the_ratio_to_dotnet()
    {
        var (exit, output, error) = await CliRunner.RunAsync("bench", "hsm", "--seconds", "0.2", "--json");

        Assert.True(exit == 0, error);
        using var json = JsonDocument.Parse(output);
        var root = json.RootElement;
        Assert.True(root.GetProperty("hsm_sign_per_s_1_thread").GetDouble() > 0);
        Assert.True(root.GetProperty("hsm_keygen_per_s").GetDouble() > 0);
        Assert.True(root.GetProperty("hsm_to_dotnet_sign_ratio").GetDouble() > 0);
    }
}

[Collection(nameof(SharedConsole))]
public class BenchE2eCommandTests
{
    [Fact]
    public async Task Bench_e2e_signs_through_the_bff_and_a_worker_process_without_errors_and_reports_the_in_process_ratio()
    {
        // A private RabbitMQ node, one worker process, the BFF on loopback; no timing is asserted, only that work was done.
        var (exit, output, error) = await CliRunner.RunAsync("bench", "e2e", "--seconds", "2", "--wallets", "2", "--workers", "1", "--signs-per-login", "5", "--breakdown", "--json");

        Assert.True(exit == 0, error);
        using var json = JsonDocument.Parse(output);
        var root = json.RootElement;
        Assert.Equal(2, root.GetProperty("wallets").GetInt32());
        Assert.Equal(1, root.GetProperty("workers").GetInt32());
        Assert.Equal(5, root.GetProperty("signs_per_login").GetInt32());
        Assert.StartsWith("private node", root.GetProperty("broker").GetString(), StringComparison.Ordinal);
        foreach (var path in new[] { "e2e", "in_process" })
        {
            var run = root.GetProperty(path);
            Assert.True(run.GetProperty("signs").GetInt64() > 0, path);
            Assert.True(run.GetProperty("logins").GetInt64() > 0, path);
            Assert.True(run.GetProperty("signs_per_s").GetDouble() > 0, path);
            Assert.Equal(0, run.GetProperty("error_count").GetInt64());
            Assert.Empty(run.GetProperty("errors").EnumerateObject());
            foreach (var operation in new[] { "login", "sign", "session_end" })
            {
                var latency = run.GetProperty("latency_ms").GetProperty(operation);
                Assert.True(latency.GetProperty("p50").GetDouble() <= latency.GetProperty("p95").GetDouble(), $"{path} {operation}");
                Assert.True(latency.GetProperty("p95").GetDouble() <= latency.GetProperty("p99").GetDouble(), $"{path} {operation}");
            }

            Assert.Equal(run.GetProperty("signs").GetInt64(), run.GetProperty("latency_ms").GetProperty("sign").GetProperty("count").GetInt64());
        }

        Assert.True(root.GetProperty("e2e_to_in_process_sign_ratio").GetDouble() > 0);
        // Both echo baselines ran on the same broker: the transient queue and the quorum queue of the request queue's kind.
        foreach (var echo in new[] { "echo", "echo_quorum_queue" })
            Assert.True(root.GetProperty(echo).GetProperty("round_trips").GetInt64() > 0, echo);
        Assert.True(root.GetProperty("e2e_sign_to_quorum_echo_ratio").GetDouble() > 0);

        // --breakdown: the service core's spans in process; end to end, the wallets' HTTP calls, the BFF's handling of
        // them, its sends to the request queue and its round trips with the workers' wait and handling as their replies
        // report them (RabbitMQ carries the reply headers), one of each per request.
        var requests = root.GetProperty("e2e").GetProperty("latency_ms").EnumerateObject().Sum(o => o.Value.GetProperty("count").GetInt64());
        Assert.Contains(Lines("in_process_breakdown"), line => line.Name.StartsWith("span R2PS ", StringComparison.Ordinal) && line.Count > 0);
        var endToEnd = Lines("e2e_breakdown");
        foreach (var hop in new[] { "span System.Net.Http: POST", "span Microsoft.AspNetCore: Microsoft.AspNetCore.Hosting.HttpRequestIn", "span MassTransit: r2ps-hsm send",
                     "r2ps.messaging.request.duration", "r2ps.messaging.request.queued", "r2ps.messaging.request.handling",
                     "r2ps.messaging.request.store", "r2ps.messaging.request.hsm", "r2ps.messaging.request.saga" })
            Assert.True(endToEnd.Single(line => line.Name == hop).Count >= requests, hop);
        // The workers' split is real time: every request touches the store and the HSM, and logins wait for the saga.
        foreach (var part in new[] { "r2ps.messaging.request.store", "r2ps.messaging.request.hsm", "r2ps.messaging.request.saga" })
            Assert.True(Totals("e2e_breakdown")[part] > 0, part);
        // In process: the HSM's operations and the saga commands by command.
        var inProcess = Lines("in_process_breakdown");
        Assert.Contains(inProcess, line => line.Name == "r2ps.hsm.operation.duration" && line.Count > 0);
        Assert.Contains(inProcess, line => line.Name == "r2ps.session.command.duration begin_login" && line.Count > 0);

        Dictionary<string, double> Totals(string property) =>
            root.GetProperty(property).EnumerateArray().ToDictionary(line => line.GetProperty("name").GetString()!, line => line.GetProperty("total_ms").GetDouble());

        List<(string Name, long Count)> Lines(string property) =>
            [.. root.GetProperty(property).EnumerateArray().Select(line => (line.GetProperty("name").GetString()!, line.GetProperty("count").GetInt64()))];
    }

    [Fact]
    public async Task Bench_e2e_refuses_a_broker_that_is_not_on_loopback()
    {
        var (exit, _, error) = await CliRunner.RunAsync("bench", "e2e", "--rabbitmq", "amqp://guest:guest@192.0.2.10:5672/");
        Assert.NotEqual(0, exit);
        Assert.Contains("--rabbitmq", error, StringComparison.Ordinal);
    }
}
