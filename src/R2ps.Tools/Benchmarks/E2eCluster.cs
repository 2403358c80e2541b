using System.Globalization;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using R2ps.Bff.Endpoints;
using R2ps.Bff.Hosting;
using R2ps.Crypto.Ec;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Keys;
using R2ps.Hsm;
using R2ps.Tools.SoftHsm;
using R2ps.Tools.Processes;
using R2ps.Tools.RabbitMq;
using R2ps.Wallet;
using R2ps.Wallet.Http;


namespace R2ps.Tools.Benchmarks;

/// <summary>
/// The distributed system on this machine, loopback only: a RabbitMQ broker (a private node started for the run, or
/// the one given), W worker processes on one SoftHSM2 token and one SQLite file, and the BFF in this process on a
/// loopback port over the same broker. Wallets reach it over HTTP with device sessions, as a phone would.
/// </summary>
internal sealed class E2eCluster : IAsyncDisposable
{
    public const string Context = "hsm";
    private static readonly TimeSpan WorkerStartTimeout = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    private readonly List<WorkerProcess> _workers = [];
    private readonly string _adminToken = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
    private RabbitMqNode? _node;
    private WebApplication? _bff;
    private HttpClient? _http;
    private BffPublicKeys? _keys;

    private E2eCluster()
    {
    }

    /// <summary>Where the broker is: the private node's URI, or the one given (without credentials).</summary>
    public string BrokerDescription { get; private set; } = string.Empty;

    /// <summary>The broker the cluster runs on (for the echo baseline on the same broker).</summary>
    public Uri Broker { get; private set; } = null!;

    /// <summary>The private broker node; null when the run uses a given broker.</summary>
    public RabbitMqNode? Node => _node;

    /// <summary>The worker processes, in start order.</summary>
    public IReadOnlyList<WorkerProcess> Workers => _workers;

    /// <param name="folder">The run's folder: the user PIN and its file, the BFF's content root and the SQLite files.</param>
    /// <param name="token">A token made in <paramref name="folder"/>.</param>
    /// <param name="postgres">A PostgreSQL database for the store, the saga and the BFF; null: SQLite files in <paramref name="folder"/>.</param>
    public static async Task<E2eCluster> StartAsync(Uri? rabbitMq, int workers, ThrowAwaySoftHsm folder, SoftHsmToken token, int hsmSessions,
        Action<string> progress, CancellationToken cancellationToken, string? postgres = null)
    {
        ArgumentNullException.ThrowIfNull(folder);
        var cluster = new E2eCluster();
        try
        {
            await cluster.StartCoreAsync(rabbitMq, workers, token, folder.UserPin, folder.UserPinFile, folder.Directory, hsmSessions, postgres, progress,
                cancellationToken).ConfigureAwait(false);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task StartCoreAsync(Uri? rabbitMq, int workers, SoftHsmToken token, string userPin, string userPinFile, string directory, int hsmSessions,
        string? postgres, Action<string> progress, CancellationToken cancellationToken)
    {
        Uri broker;
        if (rabbitMq is null)
        {
            progress("Starting a private RabbitMQ node on loopback");
            _node = await RabbitMqNode.StartAsync(new RabbitMqNodeOptions { RequirePrivateNode = true, NodeNamePrefix = "r2ps-bench" }, cancellationToken).ConfigureAwait(false);
            broker = _node.AmqpUri;
            BrokerDescription = $"private node {_node.NodeName} on 127.0.0.1:{_node.AmqpPort}";
        }
        else
        {
            broker = rabbitMq;
            BrokerDescription = $"given broker {rabbitMq.Host}:{rabbitMq.Port}";
        }

        Broker = broker;

        // Server and sealing keys exist before any worker starts, so no two workers race to create them.
        var hsmOptions = token.CreateOptions(userPin, sessionPoolSize: 1);
        using (var connection = HsmConnection.Open(hsmOptions))
        {
            await HsmServiceKeys.GetOrCreateSealingKeyAsync(connection, hsmOptions.SealingKeyLabel, cancellationToken).ConfigureAwait(false);
            await HsmServiceKeys.GetOrCreateServerKeyAsync(connection, hsmOptions.ServerKeyLabel, cancellationToken).ConfigureAwait(false);
        }

        var store = postgres ?? $"Data Source={Path.Combine(directory, "r2ps.db")}";
        var provider = postgres is null ? "sqlite" : "postgres";
        var sessions = hsmSessions.ToString(CultureInfo.InvariantCulture);
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["DOTNET_ENVIRONMENT"] = "Production",
            ["SOFTHSM2_CONF"] = token.ConfigurationPath,
            ["Hsm__ModulePath"] = token.ModulePath,
            ["Hsm__TokenLabel"] = token.Label,
            ["Hsm__UserPinFile"] = userPinFile,
            ["Hsm__SessionPoolSize"] = sessions,
            ["Messaging__Transport"] = "rabbitmq",
            ["Messaging__RequestTimeout"] = RequestTimeout.ToString("c", CultureInfo.InvariantCulture),
            ["RabbitMq__Uri"] = broker.ToString(),
            ["Store__Provider"] = provider,
            ["Store__ConnectionString"] = store,
            ["SignSessions__Provider"] = provider,
            ["SignSessions__ConnectionString"] = store,
            ["Worker__Context"] = Context,
            ["Logging__LogLevel__Default"] = "Information", // the worker's "started" line is Information
            ["Logging__LogLevel__Microsoft"] = "Warning",
            ["Logging__LogLevel__MassTransit"] = "Warning",
            ["Logging__LogLevel__R2ps.Service"] = "Warning",
        };
        progress($"Starting {workers} worker process(es)");
        for (var i = 1; i <= workers; i++)
            _workers.Add(WorkerProcess.Start($"bench-w{i}", environment));
        await Task.WhenAll(_workers.Select(w => w.WaitUntilStartedAsync(WorkerStartTimeout, cancellationToken))).ConfigureAwait(false);

        progress("Starting the BFF on loopback");
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production", ContentRootPath = directory });
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Messaging:Transport"] = "rabbitmq",
            ["Messaging:RequestTimeout"] = RequestTimeout.ToString("c", CultureInfo.InvariantCulture),
            ["RabbitMq:Uri"] = broker.ToString(),
            ["Hsm:ModulePath"] = token.ModulePath,
            ["Hsm:TokenLabel"] = token.Label,
            ["Hsm:UserPinFile"] = userPinFile,
            ["Hsm:SessionPoolSize"] = sessions,
            ["Bff:Provider"] = provider,
            ["Bff:ConnectionString"] = postgres ?? $"Data Source={Path.Combine(directory, "bff.db")}",
            ["Admin:Token"] = _adminToken,
        });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace).SetMinimumLevel(LogLevel.Warning);
        builder.AddR2psBff();
        _bff = builder.Build();
        _bff.MapR2psBff();
        await _bff.StartAsync(cancellationToken).ConfigureAwait(false);
        var address = _bff.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
            ?? throw new InvalidOperationException("The BFF reports no address.");
        _http = new HttpClient { BaseAddress = new Uri(address.TrimEnd('/') + "/"), Timeout = RequestTimeout + TimeSpan.FromSeconds(5) };
        _keys = await HttpR2psTransport.GetKeysAsync(_http, cancellationToken).ConfigureAwait(false);
        if (!_keys.ServerKeys.ContainsKey(Context))
            throw new InvalidOperationException($"The BFF knows no server key for context '{Context}'.");
    }

    /// <summary>A device registered through the admin API, with its own device session, prepared by <see cref="BenchWallet.PrepareAsync"/>.</summary>
    public async Task<BenchWallet> CreateWalletAsync(CancellationToken cancellationToken)
    {
        var http = _http ?? throw new InvalidOperationException("The cluster is not started.");
        var keys = _keys!;
        var key = SoftwareEcKey.Generate(EcCurve.P256);
        var device = new R2psDevice("bench-" + Guid.NewGuid().ToString("N"), Base64Std.Encode(key.PublicKey.ToCompressed()), key);
        HttpR2psTransport? transport = null;
        try
        {
            var registered = await new R2psAdminClient(http, _adminToken).RegisterAsync(device.ClientId, device.Kid, device.PublicKey, [Context], cancellationToken)
                .ConfigureAwait(false);
            transport = new HttpR2psTransport(http, device, keys.BffKey);
            var wallet = new R2psWallet(device, keys.ServerKeys[Context], transport);
            return await BenchWallet.PrepareAsync(wallet, registered.Authorization, [transport, device], cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            transport?.Dispose();
            device.Dispose();
            throw;
        }
    }

    /// <summary>CPU time all worker processes have used so far.</summary>
    public TimeSpan WorkersCpu() => _workers.Aggregate(TimeSpan.Zero, (sum, w) => sum + w.ProcessorTime);

    /// <summary>A worker that died during the run, with its last output; null when all are alive.</summary>
    public string? DeadWorkerReport() => _workers.FirstOrDefault(w => w.HasExited) is { } dead
        ? $"Worker {dead.Id} exited during the run:{Environment.NewLine}{dead.Output}"
        : null;

    /// <summary>
    /// The faults the workers logged that are still in their kept output (each <c>fail:</c> or <c>crit:</c> entry and its
    /// indented lines), or an empty string: for a run that was answered SERVER_ERROR, whose cause is in a worker's log.
    /// </summary>
    public string WorkerFaultReport() => string.Concat(_workers.Select(w => WorkerLog.Faults(w.Id, w.Output)));

    public async ValueTask DisposeAsync()
    {
        _http?.Dispose();
        if (_bff is not null)
        {
            using var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            await _bff.StopAsync(bounded.Token).ConfigureAwait(false);
            await _bff.DisposeAsync().ConfigureAwait(false);
        }

        await Task.WhenAll(_workers.Select(w => w.DisposeAsync().AsTask())).ConfigureAwait(false);
        if (_node is not null) await _node.DisposeAsync().ConfigureAwait(false);
    }
}
