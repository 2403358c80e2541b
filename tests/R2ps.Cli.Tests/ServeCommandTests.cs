using System.Net;
using System.Text.Json;

namespace R2ps.Cli.Tests;

[Collection(nameof(SharedConsole))]
public class ServeCommandTests
{
    [Fact]
    public async Task Serve_all_answers_ready_and_publishes_its_keys_then_stops_cleanly_when_cancelled()
    {
        var data = Directory.CreateTempSubdirectory("r2ps-serve-test-");
        try
        {
            int exit;
            await using (var served = await ServedSystem.StartAsync(data.FullName))
            {
                using var http = new HttpClient { BaseAddress = served.Address };
                using var ready = await http.GetAsync(new Uri("health/ready", UriKind.Relative), TestContext.Current.CancellationToken);
                Assert.Equal(HttpStatusCode.OK, ready.StatusCode);

                using var keys = JsonDocument.Parse(await http.GetStringAsync(new Uri("r2ps/v1/keys", UriKind.Relative), TestContext.Current.CancellationToken));
                // PROTOCOL.md 2: base64 SPKI DER of P-256 keys (91 bytes) for the BFF and the 'hsm' context.
                Assert.Equal(91, Convert.FromBase64String(keys.RootElement.GetProperty("bff_key").GetString()!).Length);
                Assert.Equal(91, Convert.FromBase64String(keys.RootElement.GetProperty("server_keys").GetProperty("hsm").GetString()!).Length);

                exit = await served.StopAsync();
                Assert.Contains($"listening on {served.Address}", served.Output, StringComparison.Ordinal);
            }
            Assert.Equal(0, exit);
            Assert.True(File.Exists(Path.Combine(data.FullName, "r2ps.db")));
            Assert.True(File.Exists(Path.Combine(data.FullName, "bff.db")));
            Assert.True(File.Exists(Path.Combine(data.FullName, "hsm", "softhsm2.conf")));
        }
        finally
        {
            data.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Serve_with_rabbitmq_broker_but_no_uri_is_refused()
    {
        var (exit, _, error) = await CliRunner.RunAsync("serve", "worker", "--broker", "rabbitmq");
        Assert.NotEqual(0, exit);
        Assert.Contains("--rabbitmq", error, StringComparison.Ordinal);
    }
}
