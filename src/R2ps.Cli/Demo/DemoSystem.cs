using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using R2ps.Cli.Hosting;
using R2ps.Tools.Processes;

namespace R2ps.Cli.Demo;

/// <summary>How the demo runs the service: everything in this process, or the BFF here and workers over RabbitMQ.</summary>
internal sealed record DemoTopology(string Broker, string? RabbitMqUri, int Workers)
{
    /// <summary>With <c>--store postgres</c>: the database of the store, the saga and the BFF (else SQLite files in the data folder).</summary>
    public string? PostgresConnectionString { get; init; }
}

/// <summary>
/// The system the demo talks to over HTTP: the BFF on a loopback port chosen by the system, with either the worker and
/// saga in the same process on the in-memory bus (embedded defaults), or separate worker processes on RabbitMQ sharing
/// the data folder's SQLite database (or the PostgreSQL database of <c>--store postgres</c>) and SoftHSM2 token. The admin token is random for each run.
/// </summary>
internal sealed class DemoSystem : IAsyncDisposable
{
    private readonly ServerHost _server;
    private readonly List<WorkerProcess> _workers;

    private DemoSystem(ServerHost server, List<WorkerProcess> workers, DataFolder data, string adminToken)
    {
        _server = server;
        _workers = workers;
        Data = data;
        AdminToken = adminToken;
    }

    public DataFolder Data { get; }

    public string AdminToken { get; }

    public Uri BffAddress => _server.Addresses[0];

    public IReadOnlyList<WorkerProcess> Workers => _workers;

    public static async Task<DemoSystem> StartAsync(string dataDirectory, DemoTopology topology, Action<string> progress, CancellationToken cancellationToken)
    {
        var data = DataFolder.Ensure(dataDirectory);
        var adminToken = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var settings = data.Settings();
        settings["Admin:Token"] = adminToken;
        settings["Worker:Id"] = "embedded";
        if (topology.PostgresConnectionString is { } postgres)
        {
            // One PostgreSQL database for all three: their table names do not overlap.
            foreach (var section in (string[])["Store", "SignSessions", "Bff"])
            {
                settings[$"{section}:Provider"] = "postgres";
                settings[$"{section}:ConnectionString"] = postgres;
            }
        }

        var workers = new List<WorkerProcess>();
        var role = ServerRole.All;
        try
        {
            if (topology.Broker == "rabbitmq")
            {
                role = ServerRole.Bff;
                settings["Messaging:Transport"] = "rabbitmq";
                settings["RabbitMq:Uri"] = topology.RabbitMqUri;
                await data.ProvisionServiceKeysAsync(cancellationToken).ConfigureAwait(false);
                var environment = data.WorkerEnvironment();
                if (topology.PostgresConnectionString is { } shared)
                {
                    foreach (var section in (string[])["Store", "SignSessions"])
                    {
                        environment[$"{section}__Provider"] = "postgres";
                        environment[$"{section}__ConnectionString"] = shared;
                    }
                }

                environment["Messaging__Transport"] = "rabbitmq";
                environment["RabbitMq__Uri"] = topology.RabbitMqUri!;
                for (var i = 1; i <= topology.Workers; i++)
                    workers.Add(WorkerProcess.Start($"demo-worker-{i}", environment));
                progress($"{topology.Workers} worker process(es) starting: pids {string.Join(", ", workers.Select(w => w.ProcessId))}");
                await Task.WhenAll(workers.Select(w => w.WaitUntilStartedAsync(TimeSpan.FromSeconds(60), cancellationToken))).ConfigureAwait(false);
            }
            else
            {
                settings["Messaging:Transport"] = "inmemory";
            }

            var server = await ServerHost.StartAsync(role, new ServerHostSettings
            {
                Defaults = settings,
                UseStandardSources = false,
                Urls = "http://127.0.0.1:0",
                MinimumLogLevel = LogLevel.Warning,
            }, cancellationToken).ConfigureAwait(false);
            return new DemoSystem(server, workers, data, adminToken);
        }
        catch
        {
            await Task.WhenAll(workers.Select(w => w.DisposeAsync().AsTask())).ConfigureAwait(false);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync().ConfigureAwait(false);
        await Task.WhenAll(_workers.Select(w => w.DisposeAsync().AsTask())).ConfigureAwait(false);
    }
}
