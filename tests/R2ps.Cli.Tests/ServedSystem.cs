using System.CommandLine;
using System.Net;
using System.Net.Sockets;

namespace R2ps.Cli.Tests;

/// <summary>
/// <c>r2ps serve all</c> running in this process in the background on a free loopback port, with its own output writer
/// (it does not touch Console.Out, so commands run with <see cref="CliRunner"/> meanwhile capture only their own output).
/// Disposing cancels it — what Ctrl+C does — and waits for a clean exit.
/// </summary>
internal sealed class ServedSystem : IAsyncDisposable
{
    public const string AdminToken = "cli-test-admin-token-0123456789";

    private readonly CancellationTokenSource _stop;
    private readonly Task<int> _run;
    private readonly StringWriter _output;

    private ServedSystem(Uri address, CancellationTokenSource stop, Task<int> run, StringWriter output)
    {
        Address = address;
        _stop = stop;
        _run = run;
        _output = output;
    }

    public Uri Address { get; }

    public string Output => _output.ToString();

    public static async Task<ServedSystem> StartAsync(string dataDirectory)
    {
        var port = FreePort();
        var address = new Uri($"http://127.0.0.1:{port}/");
        var output = new StringWriter();
        var stop = new CancellationTokenSource();
        // Configuration on the command line, as for any .NET host: the admin token, and quiet logs.
        var run = CliApplication.Create()
            .Parse(["serve", "all", "--urls", $"http://127.0.0.1:{port}", "--data", dataDirectory, $"--Admin:Token={AdminToken}", "--Logging:LogLevel:Default=Warning"])
            .InvokeAsync(new InvocationConfiguration { Output = output, Error = output }, stop.Token);

        using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            if (run.IsCompleted)
                throw new InvalidOperationException($"serve all ended with {await run}: {output}");
            try
            {
                using var ready = await http.GetAsync(new Uri("health/ready", UriKind.Relative));
                if (ready.StatusCode == HttpStatusCode.OK)
                    return new ServedSystem(address, stop, run, output);
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"serve all did not become ready: {output}");
            await Task.Delay(200);
        }
    }

    /// <summary>Stops it as Ctrl+C does and returns its exit code.</summary>
    public async Task<int> StopAsync()
    {
        await _stop.CancelAsync();
        return await _run.WaitAsync(TimeSpan.FromSeconds(30));
    }

    public async ValueTask DisposeAsync()
    {
        if (!_run.IsCompleted)
            await StopAsync();
        _stop.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
