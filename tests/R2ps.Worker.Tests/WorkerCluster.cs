using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using R2ps.Crypto.Ec;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Keys;
using R2ps.Hsm;
using R2ps.Messaging;
using R2ps.Protocol;
using R2ps.Sessions;
using R2ps.Store;
using R2ps.Tools.SoftHsm;
using R2ps.Tools.Processes;
using R2ps.Tools.RabbitMq;
using R2ps.Wallet;
using R2ps.Tools.PostgreSql;

namespace R2ps.Worker.Tests;

/// <summary>
/// One collection for both clusters (SQLite and PostgreSQL): its tests run one at a time, so the two clusters never
/// compete for the machine while a test measures a TTL.
/// </summary>
[CollectionDefinition(Name)]
public sealed class WorkerClusterDefinition : ICollectionFixture<WorkerCluster>, ICollectionFixture<PostgresWorkerCluster>
{
    public const string Name = "Two worker processes on a private RabbitMQ node";
}

/// <summary>
/// The distributed set-up, once per test collection: a private RabbitMQ node, a SoftHSM2 token in a temporary folder
/// (server and sealing keys provisioned before any worker starts, so no two workers race to create them), one database
/// for the store and the saga (a SQLite file here; a PostgreSQL database in <see cref="PostgresWorkerCluster"/>), and TWO
/// worker processes (<c>worker-a</c>, <c>worker-b</c>) on it. The test process holds
/// the client side: a bus with <see cref="R2psServiceClient"/>, the store (to register clients and read the audit log)
/// and the saga's read model.
/// </summary>
/// <remarks>
/// Both workers take at most one request at a time (<c>Worker:ConcurrencyLimit</c> and <c>Worker:PrefetchCount</c> = 1):
/// RabbitMQ hands a queue's messages to its consumers in turn, skipping a consumer with no credit, so consecutive
/// requests of one sequential caller alternate between the two workers. Tests rely on that to put steps of one session
/// on different workers, and prove it from the audit log's worker ids.
/// </remarks>
public class WorkerCluster : IAsyncLifetime
{
    public const string Context = "hsm";
    public const string WorkerA = "worker-a";
    public const string WorkerB = "worker-b";
    public static readonly TimeSpan ClientTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The workers' <c>R2ps:LoginWindow</c>: shorter than the 10 s default so that a finalize after the window can be
    /// tested by waiting it out, yet long enough for a cold worker's evaluate → finalize.
    /// </summary>
    public static readonly TimeSpan LoginWindow = TimeSpan.FromSeconds(5);

    /// <summary>The workers' <c>R2ps:MaxKeysPerCurve</c>: small, so the limit is reached with a few cheap key generations.</summary>
    public const int MaxKeysPerCurve = 2;
    static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    const string UserPin = "worker-test-pin";

    // SoftHSM2 reads SOFTHSM2_CONF once per process: every cluster of this process shares one token directory, each
    // with a token of its own label. It goes when the process ends.
    static readonly Lazy<string> SharedSoftHsmDirectory = new(() =>
    {
        var directory = Directory.CreateTempSubdirectory("r2ps-worker-tests-softhsm-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
                // Left to the temporary-folder cleaner.
            }
        };
        return directory;
    });

    readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("r2ps-worker-tests-");
    readonly Dictionary<string, string> _workerEnvironment = new(StringComparer.Ordinal);
    readonly List<WorkerProcess> _workers = [];
    IHost? _client;

    public RabbitMqNode Node { get; private set; } = null!;

    public EcPublicKey ServerKey { get; private set; } = null!;

    public IServiceProvider Services => _client?.Services ?? throw new InvalidOperationException("The cluster is not started.");

    public R2psServiceClient Client => Services.GetRequiredService<R2psServiceClient>();

    internal IReadOnlyList<WorkerProcess> Workers => _workers;

    /// <summary>The store's and the saga's database provider (<c>Store:Provider</c>, <c>SignSessions:Provider</c>).</summary>
    public virtual string DatabaseProvider => "sqlite";

    /// <summary>The workers' token label: each cluster of the process has its own.</summary>
    protected virtual string TokenLabel => "r2ps-test";

    /// <summary>
    /// The SoftHSM2 configuration directory of this process (SoftHSM2 reads one SOFTHSM2_CONF per process, so anything else in
    /// the test process that opens a token must use this directory, with a token of its own).
    /// </summary>
    public string SoftHsmDirectory => SharedSoftHsmDirectory.Value;

    /// <summary>The connection string of the store's and the saga's database, made when the cluster starts.</summary>
    protected virtual Task<string> CreateDatabaseAsync() =>
        Task.FromResult($"Data Source={Path.Combine(_directory.FullName, "r2ps.db")}");

    /// <summary>A folder that is deleted with the cluster, for files of other tests (databases).</summary>
    public string ScratchDirectory => _directory.FullName;

    public async ValueTask InitializeAsync()
    {
        Node = await RabbitMqNode.StartAsync(new RabbitMqNodeOptions { RequirePrivateNode = true });
        var token = SoftHsmToken.Ensure(SoftHsmDirectory, TokenLabel, "worker-test-so-pin", UserPin);
        ServerKey = await ProvisionServiceKeysAsync(token);

        var connectionString = await CreateDatabaseAsync();
        _workerEnvironment["DOTNET_ENVIRONMENT"] = "Production";
        _workerEnvironment["SOFTHSM2_CONF"] = token.ConfigurationPath;
        _workerEnvironment["R2PS_HSM_PIN"] = UserPin;
        _workerEnvironment["Hsm__UserPinEnvironmentVariable"] = "R2PS_HSM_PIN";
        _workerEnvironment["Hsm__ModulePath"] = token.ModulePath;
        _workerEnvironment["Hsm__TokenLabel"] = TokenLabel;
        _workerEnvironment["Hsm__SessionPoolSize"] = "2";
        _workerEnvironment["Messaging__Transport"] = "rabbitmq";
        _workerEnvironment["RabbitMq__Uri"] = Node.AmqpUri.ToString();
        _workerEnvironment["RabbitMq__Heartbeat"] = "00:00:05";
        _workerEnvironment["Store__Provider"] = DatabaseProvider;
        _workerEnvironment["Store__ConnectionString"] = connectionString;
        _workerEnvironment["SignSessions__Provider"] = DatabaseProvider;
        _workerEnvironment["SignSessions__ConnectionString"] = connectionString;
        _workerEnvironment["SignSessions__SweepInterval"] = "00:00:00.200";
        _workerEnvironment["SignSessions__ExpiryResendAfter"] = "00:00:01";
        _workerEnvironment["Worker__Context"] = Context;
        _workerEnvironment["R2ps__LoginWindow"] = LoginWindow.ToString("c", CultureInfo.InvariantCulture);
        _workerEnvironment["R2ps__MaxKeysPerCurve"] = MaxKeysPerCurve.ToString(CultureInfo.InvariantCulture);
        _workerEnvironment["Worker__ConcurrencyLimit"] = "1";
        _workerEnvironment["Worker__PrefetchCount"] = "1";
        _workerEnvironment["Logging__LogLevel__Default"] = "Information";
        _workerEnvironment["Logging__LogLevel__Microsoft.EntityFrameworkCore"] = "Warning";

        _client = await StartClientAsync(connectionString);
        await StartWorkersAsync();
    }

    /// <summary>
    /// Two whole wallet flows (PIN, login, key, sign, close) after every start of the workers and after a broker outage,
    /// retried while the cold path (JIT, first connections and HSM sessions; consecutive requests alternate between the
    /// workers, so both warm; after an outage, every receive endpoint reconnecting on its own, the saga's too) answers 503:
    /// a cold first request on a loaded 2-core machine can outlast <see cref="ClientTimeout"/>, which no test is about.
    /// </summary>
    public async Task WarmUpAsync()
    {
        var clock = Stopwatch.StartNew();
        // Both workers' endpoints first: the flows below can succeed on one worker alone while the other still reconnects
        // (a fresh-clone CI run then saw 20 requests in a row on worker-a, in a test about the other worker).
        await Node.WaitForConsumersAsync([R2psQueues.RequestQueue(Context), R2psQueues.AdminQueue], _workers.Count(w => !w.HasExited), WarmUpLimit);
        for (var warm = 0; warm < 2;)
        {
            var (wallet, code) = await RegisteredWalletWithoutPinAsync(CancellationToken.None);
            try
            {
                await wallet.Wallet.RegisterPinAsync("000000", code);
                using var session = await wallet.Wallet.LoginAsync("000000");
                await session.GenerateKeyAsync(EcCurve.P256);
                await session.SignAsync((await session.ListKeysAsync()).Single().Kid, new byte[32]);
                await session.CloseAsync();
                warm++;
            }
            catch (R2psClientException e) when (e.Code == ErrorCode.ServiceUnavailable && clock.Elapsed < WarmUpLimit)
            {
                // Cold and slow: try again with a new wallet.
            }
            finally
            {
                wallet.Wallet.Device.Dispose();
            }
        }
    }

    static readonly TimeSpan WarmUpLimit = TimeSpan.FromSeconds(120);

    /// <summary>
    /// Starts worker-a and worker-b together, waits until both serve and warms them up: a test after a restart must not
    /// meet cold workers (a busy-core CI run had a close outlast the saga's request timeout on the workers that
    /// <c>SessionExpiryTests</c> had just restarted).
    /// </summary>
    public async Task StartWorkersAsync()
    {
        var started = new[] { WorkerProcess.Start(WorkerA, _workerEnvironment), WorkerProcess.Start(WorkerB, _workerEnvironment) };
        _workers.AddRange(started);
        await Task.WhenAll(started.Select(w => w.WaitUntilStartedAsync(StartTimeout)));
        await WarmUpAsync();
    }

    /// <summary>Kills every worker process at once (nothing of theirs survives but the database and the broker).</summary>
    public async Task KillWorkersAsync()
    {
        await Task.WhenAll(_workers.Select(async w =>
        {
            await w.KillAsync();
            await w.DisposeAsync();
        }));
        _workers.Clear();
    }

    /// <summary>A worker process started with the cluster's configuration and <paramref name="overrides"/>, not added to the cluster.</summary>
    internal WorkerProcess StartStandaloneWorker(string id, IReadOnlyDictionary<string, string> overrides)
    {
        var environment = new Dictionary<string, string>(_workerEnvironment, StringComparer.Ordinal);
        foreach (var (name, value) in overrides)
            environment[name] = value;
        return WorkerProcess.Start(id, environment);
    }

    /// <summary>A new client key registered through the store (as the admin path does), its PIN set through the workers.</summary>
    public async Task<RecordingWallet> RegisteredWalletAsync(string pin, CancellationToken cancellationToken)
    {
        var (wallet, code) = await RegisteredWalletWithoutPinAsync(cancellationToken);
        await wallet.Wallet.RegisterPinAsync(pin, code, cancellationToken);
        return wallet;
    }

    /// <summary>A new client key registered through the store (as the admin path does), no PIN yet: the wallet and its one-time code.</summary>
    public async Task<(RecordingWallet Wallet, string RegistrationCode)> RegisteredWalletWithoutPinAsync(CancellationToken cancellationToken)
    {
        var key = SoftwareEcKey.Generate(EcCurve.P256);
        var device = new R2psDevice("wallet-" + Guid.NewGuid().ToString("N"), Base64Std.Encode(key.PublicKey.ToCompressed()), key);
        await Services.GetRequiredService<IClientRegistry>().RegisterAsync(
            new ClientRegistration(device.ClientId, device.Kid, device.PublicKey.ToSpki(), [Context]), cancellationToken);
        var code = await Services.GetRequiredService<IRegistrationCodeStore>().IssueAsync(device.ClientId, device.Kid, cancellationToken)
            ?? throw new InvalidOperationException("No registration code was issued.");
        var transport = new RecordingTransport(Client, Context);
        return (new RecordingWallet(new R2psWallet(device, ServerKey, transport), transport), code.Code);
    }

    /// <summary>This client's audit entries, oldest first.</summary>
    public async Task<IReadOnlyList<AuditEntry>> AuditAsync(string clientId, CancellationToken cancellationToken) =>
        [.. (await Services.GetRequiredService<IAuditLog>().QueryByClientAsync(clientId, 1000, cancellationToken)).OrderBy(e => e.Id)];

    /// <summary>Every worker's output so far, for a failure message.</summary>
    public string WorkerOutput() => string.Join(Environment.NewLine, _workers.Select(w => $"--- {w.Id} ---{Environment.NewLine}{w.Output}"));

    public virtual async ValueTask DisposeAsync()
    {
        await KillWorkersAsync();
        if (_client is not null)
        {
            await _client.StopAsync();
            _client.Dispose();
        }

        await Node.DisposeAsync();
        try
        {
            _directory.Delete(recursive: true);
        }
        catch (IOException)
        {
            // A file still held by a dying process; the temporary folder is cleaned eventually.
        }

        GC.SuppressFinalize(this);
    }

    static async Task<EcPublicKey> ProvisionServiceKeysAsync(SoftHsmToken token)
    {
        var options = token.CreateOptions(UserPin, sessionPoolSize: 1);
        using var connection = HsmConnection.Open(options);
        await HsmServiceKeys.GetOrCreateSealingKeyAsync(connection, options.SealingKeyLabel);
        return (await HsmServiceKeys.GetOrCreateServerKeyAsync(connection, options.ServerKeyLabel)).PublicKey;
    }

    async Task<IHost> StartClientAsync(string connectionString)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Messaging:Transport"] = "rabbitmq",
            ["Messaging:RequestTimeout"] = ClientTimeout.ToString("c", CultureInfo.InvariantCulture),
            ["RabbitMq:Uri"] = Node.AmqpUri.ToString(),
            ["RabbitMq:Heartbeat"] = "00:00:05",
            ["Store:Provider"] = DatabaseProvider,
            ["Store:ConnectionString"] = connectionString,
            ["SignSessions:Provider"] = DatabaseProvider,
            ["SignSessions:ConnectionString"] = connectionString,
        });
        builder.Services.AddR2psStore(builder.Configuration);
        builder.Services.AddSignSessionServices();
        builder.Services.AddR2psMessaging(builder.Configuration);
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }
}

/// <summary>The same cluster with the store and the saga on a database of a private PostgreSQL server.</summary>
public sealed class PostgresWorkerCluster : WorkerCluster
{
    PostgreSqlNode? _postgres;

    public override string DatabaseProvider => "postgres";

    protected override string TokenLabel => "r2ps-test-postgres";

    protected override async Task<string> CreateDatabaseAsync()
    {
        _postgres = await PostgreSqlNode.StartAsync();
        return await _postgres.CreateDatabaseAsync("r2ps_workers");
    }

    public override async ValueTask DisposeAsync()
    {
        try
        {
            await base.DisposeAsync();
        }
        finally
        {
            if (_postgres is not null)
                await _postgres.DisposeAsync();
        }
    }
}

/// <summary>A wallet and the transport that remembers what it sent.</summary>
public sealed record RecordingWallet(R2psWallet Wallet, RecordingTransport Transport)
{
    public string ClientId => Wallet.Device.ClientId;
}

/// <summary>The wallet's transport for these tests: <see cref="R2psServiceClient"/> over RabbitMQ; keeps every request sent.</summary>
public sealed class RecordingTransport(R2psServiceClient client, string context) : IR2psTransport
{
    readonly List<string> _sent = [];

    public IReadOnlyList<string> Sent
    {
        get
        {
            lock (_sent)
                return [.. _sent];
        }
    }

    public async Task<TransportReply> SendAsync(string requestJws, CancellationToken cancellationToken)
    {
        lock (_sent)
            _sent.Add(requestJws);
        var reply = await client.SendAsync(context, requestJws, cancellationToken);
        return new TransportReply(reply.Status, reply.Body);
    }
}
