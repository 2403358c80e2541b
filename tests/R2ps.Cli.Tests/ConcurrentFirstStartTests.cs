using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using R2ps.Cli.Hosting;
using R2ps.Tools.RabbitMq;

namespace R2ps.Cli.Tests;

/// <summary>
/// Issue 10 item 9: several processes (or threads) opening the same fresh data folder at once must end up with one token
/// and one pair of PINs, and all of them must start.
/// </summary>
[Collection(nameof(SharedConsole))]
public class ConcurrentFirstStartTests
{
    [Fact]
    public async Task Parallel_opens_of_a_fresh_data_folder_in_one_process_share_one_token_and_one_pair_of_pins()
    {
        var data = Directory.CreateTempSubdirectory("r2ps-concurrent-open-test-");
        try
        {
            using var start = new Barrier(8);
            var opens = Enumerable.Range(0, 8).Select(_ => Task.Factory.StartNew(() =>
            {
                start.SignalAndWait(TestContext.Current.CancellationToken);
                var folder = DataFolder.Ensure(data.FullName);
                return (folder.Token.Label, Pin: File.ReadAllText(folder.UserPinFile), SoPin: File.ReadAllText(folder.UserPinFile + ".so"));
            }, TestContext.Current.CancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();
            var results = await Task.WhenAll(opens);

            Assert.Single(results.Select(r => r.Pin).Distinct());
            Assert.Single(results.Select(r => r.SoPin).Distinct());
            Assert.All(results, r => Assert.NotEmpty(r.Pin));
            Assert.Equal(1, TokenCount(data.FullName));
        }
        finally
        {
            data.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Bff_saga_and_two_workers_started_at_once_on_a_fresh_data_folder_all_become_ready_with_one_token()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var node = await RabbitMqNode.StartAsync(new RabbitMqNodeOptions { RequirePrivateNode = true }, cancellationToken);
        var data = Directory.CreateTempSubdirectory("r2ps-concurrent-start-test-");
        var port = FreePort();
        var common = new[] { "--data", data.FullName, "--broker", "rabbitmq", "--rabbitmq", node.AmqpUri.ToString(), "--Logging:LogLevel:Default=Warning" };
        var servers = new List<ServeProcess>();
        try
        {
            // All four are launched before any is waited on, so their first-start work overlaps.
            servers.Add(ServeProcess.Start("bff", [.. common, "--urls", $"http://127.0.0.1:{port}", "--Admin:Token=concurrent-start-admin-token-0123"]));
            servers.Add(ServeProcess.Start("saga", common));
            servers.Add(ServeProcess.Start("worker", common));
            servers.Add(ServeProcess.Start("worker", common));

            foreach (var server in servers)
                await server.WaitUntilServingAsync(TimeSpan.FromSeconds(120), cancellationToken);

            // The BFF is ready only once a worker answers its probe over the broker.
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(10) };
            var deadline = DateTime.UtcNow.AddSeconds(60);
            HttpStatusCode status;
            do
            {
                using var ready = await http.GetAsync(new Uri("health/ready", UriKind.Relative), cancellationToken);
                status = ready.StatusCode;
                if (status != HttpStatusCode.OK) await Task.Delay(250, cancellationToken);
            }
            while (status != HttpStatusCode.OK && DateTime.UtcNow < deadline);
            Assert.True(status == HttpStatusCode.OK, string.Join("\n---\n", servers.Select(s => s.Output)));
            Assert.All(servers, s => Assert.False(s.HasExited, s.Output));
            Assert.Equal(1, TokenCount(data.FullName));
        }
        finally
        {
            foreach (var server in servers) server.Dispose();
            data.Delete(recursive: true);
        }
    }

    // SoftHSM2's file store keeps one directory per initialised token; every token in this folder carries the label r2ps.
    private static int TokenCount(string dataDirectory) =>
        Directory.GetDirectories(Path.Combine(dataDirectory, "hsm", "tokens")).Length;

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>One <c>r2ps serve</c> child process (the r2ps.dll beside this test), its output collected.</summary>
    private sealed class ServeProcess : IDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _output = new();

        private ServeProcess(Process process) => _process = process;

        public bool HasExited => _process.HasExited;

        public string Output
        {
            get
            {
                lock (_output) return _output.ToString();
            }
        }

        public static ServeProcess Start(string role, IEnumerable<string> arguments)
        {
            var info = new ProcessStartInfo("dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = AppContext.BaseDirectory,
            };
            info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "r2ps.dll"));
            info.ArgumentList.Add("serve");
            info.ArgumentList.Add(role);
            foreach (var argument in arguments) info.ArgumentList.Add(argument);
            // The child finds its token through its own data folder, never through this test process's setting.
            info.Environment.Remove("SOFTHSM2_CONF");
            info.Environment["DOTNET_ENVIRONMENT"] = "Production";
            var process = new Process { StartInfo = info };
            var server = new ServeProcess(process);
            process.OutputDataReceived += (_, e) => server.Append(e.Data);
            process.ErrorDataReceived += (_, e) => server.Append(e.Data);
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return server;
        }

        public async Task WaitUntilServingAsync(TimeSpan timeout, CancellationToken cancellationToken)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (!Output.Contains("serving (", StringComparison.Ordinal))
            {
                if (_process.HasExited) Assert.Fail($"r2ps serve exited with {_process.ExitCode}:\n{Output}");
                if (DateTime.UtcNow > deadline) Assert.Fail($"r2ps serve did not start:\n{Output}");
                await Task.Delay(100, cancellationToken);
            }
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
            _process.Dispose();
        }

        private void Append(string? line)
        {
            if (line is null) return;
            lock (_output) _output.AppendLine(line);
        }
    }
}
