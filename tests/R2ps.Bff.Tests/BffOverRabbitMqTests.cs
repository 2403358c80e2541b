using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using R2ps.Crypto.Ec;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Keys;
using R2ps.Hsm;
using R2ps.Messaging;
using R2ps.Protocol;
using R2ps.Tools.SoftHsm;
using R2ps.Tools.Processes;
using R2ps.Tools.RabbitMq;
using R2ps.Wallet;
using R2ps.Wallet.Http;

namespace R2ps.Bff.Tests;

[CollectionDefinition(Name)]
public sealed class BffClusterDefinition : ICollectionFixture<BffCluster>
{
    public const string Name = "BFF over a private RabbitMQ node with two worker processes";
}

/// <summary>
/// The distributed set-up of <c>WorkerCluster</c> (worker tests) with the BFF in front: a private RabbitMQ node, a SoftHSM2
/// token (service keys provisioned before any worker starts), one SQLite file for store and saga, TWO worker processes,
/// and the BFF in this process on a loopback port over the same broker.
/// </summary>
public sealed class BffCluster : IAsyncLifetime
{
    public const string AdminToken = "cluster-admin-token-0123456789";
    const string TokenLabel = "r2ps-cluster";

    /// <summary>
    /// The BFF's request timeout. Not the point of any test but the outage one, which bounds its answer by it: generous,
    /// because on a loaded 2-core machine a request once took more than the 5 s it was (issue 10 item 10). Above twice
    /// <see cref="SagaRequestTimeout"/> (a fan-out's), as in production.
    /// </summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(20);

    /// <summary>
    /// The workers' <c>SignSessions:RequestTimeout</c> (3 s by default): a saga command in the vault round trip outlasted
    /// 3 s on a fresh-clone CI run; no test here is about the saga's speed.
    /// </summary>
    static readonly TimeSpan SagaRequestTimeout = TimeSpan.FromSeconds(8);

    // How long the warm-up may keep retrying while the workers' first requests are slow.
    static readonly TimeSpan WarmUpLimit = TimeSpan.FromSeconds(120);

    readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("r2ps-bff-cluster-");
    readonly List<WorkerProcess> _workers = [];
    BffHost? _bff;

    public RabbitMqNode Node { get; private set; } = null!;

    public EcPublicKey BffKey { get; private set; } = null!;

    public EcPublicKey ServerKey { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Node = await RabbitMqNode.StartAsync(new RabbitMqNodeOptions { RequirePrivateNode = true });
        var token = TestHsm.Token(TokenLabel);
        using (var connection = HsmConnection.Open(token.CreateOptions(TestHsm.UserPin, sessionPoolSize: 1)))
        {
            var defaults = new HsmOptions();
            await HsmServiceKeys.GetOrCreateSealingKeyAsync(connection, defaults.SealingKeyLabel);
            await HsmServiceKeys.GetOrCreateServerKeyAsync(connection, defaults.ServerKeyLabel);
        }

        var store = $"Data Source={Path.Combine(_directory.FullName, "r2ps.db")}";
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["DOTNET_ENVIRONMENT"] = "Production",
            ["SOFTHSM2_CONF"] = token.ConfigurationPath,
            ["R2PS_HSM_PIN"] = TestHsm.UserPin,
            ["Hsm__UserPinEnvironmentVariable"] = "R2PS_HSM_PIN",
            ["Hsm__ModulePath"] = token.ModulePath,
            ["Hsm__TokenLabel"] = TokenLabel,
            ["Hsm__SessionPoolSize"] = "2",
            ["Messaging__Transport"] = "rabbitmq",
            ["RabbitMq__Uri"] = Node.AmqpUri.ToString(),
            ["RabbitMq__Heartbeat"] = "00:00:05",
            ["Store__ConnectionString"] = store,
            ["SignSessions__ConnectionString"] = store,
            ["SignSessions__RequestTimeout"] = SagaRequestTimeout.ToString("c", CultureInfo.InvariantCulture),
            ["Messaging__RequestTimeout"] = RequestTimeout.ToString("c", CultureInfo.InvariantCulture), // checked against the saga's
            ["Worker__Context"] = "hsm",
            ["Worker__ConcurrencyLimit"] = "1",
            ["Worker__PrefetchCount"] = "1",
            ["Logging__LogLevel__Default"] = "Information", // the worker's "started" line is Information
            ["Logging__LogLevel__Microsoft.EntityFrameworkCore"] = "Warning",
        };
        _workers.Add(WorkerProcess.Start("bff-worker-a", environment));
        _workers.Add(WorkerProcess.Start("bff-worker-b", environment));
        await Task.WhenAll(_workers.Select(w => w.WaitUntilStartedAsync(TimeSpan.FromSeconds(60))));

        _bff = await BffHost.StartAsync(new Dictionary<string, string?>
        {
            ["Messaging:Transport"] = "rabbitmq",
            ["Messaging:RequestTimeout"] = RequestTimeout.ToString("c", CultureInfo.InvariantCulture),
            ["RabbitMq:Uri"] = Node.AmqpUri.ToString(),
            ["RabbitMq:Heartbeat"] = "00:00:05",
            ["Hsm:ModulePath"] = token.ModulePath,
            ["Hsm:TokenLabel"] = TokenLabel,
            ["Hsm:UserPin"] = TestHsm.UserPin,
            ["Hsm:SessionPoolSize"] = "2",
            ["Bff:ConnectionString"] = $"Data Source={Path.Combine(_directory.FullName, "bff.db")}",
            ["Admin:Token"] = AdminToken,
        });
        using var http = CreateClient();
        var keys = await HttpR2psTransport.GetKeysAsync(http);
        BffKey = keys.BffKey;
        ServerKey = keys.ServerKeys["hsm"];
        await WarmUpAsync(http);
    }

    /// <summary>
    /// Two whole wallet flows (registration, PIN, login, key, sign, close) before any test and after a broker outage,
    /// retried while the cold path (JIT, first connections, first HSM sessions in both workers; after an outage, every
    /// receive endpoint reconnecting on its own, the saga's too) answers 503: the tests then state behaviours, and none of
    /// them pays for the cluster's first requests or for endpoints still reconnecting.
    /// </summary>
    public async Task WarmUpAsync(HttpClient http)
    {
        var clock = Stopwatch.StartNew();
        // Both workers' endpoints first: the flows below can succeed on one worker alone while the other still reconnects
        // (a fresh-clone CI run then saw 20 requests in a row on worker-a, in a test about the other worker).
        await Node.WaitForConsumersAsync([R2psQueues.RequestQueue("hsm"), R2psQueues.AdminQueue], _workers.Count(w => !w.HasExited), WarmUpLimit);
        for (var warm = 0; warm < 2;)
        {
            using var device = EmbeddedBff.NewDevice();
            using var transport = new HttpR2psTransport(http, device, BffKey);
            try
            {
                var registered = await new R2psAdminClient(http, AdminToken).RegisterAsync(device.ClientId, device.Kid, device.PublicKey, ["hsm"]);
                var wallet = new R2psWallet(device, ServerKey, transport);
                await wallet.RegisterPinAsync("000000", registered.Authorization);
                using var session = await wallet.LoginAsync("000000");
                await session.GenerateKeyAsync(EcCurve.P256);
                await session.SignAsync((await session.ListKeysAsync()).Single().Kid, new byte[32]);
                await session.CloseAsync();
                warm++;
            }
            catch (R2psClientException e) when (e.Code == ErrorCode.ServiceUnavailable && clock.Elapsed < WarmUpLimit)
            {
                // Cold and slow: try again with a new device.
            }
        }
    }

    public HttpClient CreateClient() => _bff!.CreateClient();

    /// <summary>The workers' shared SQLite store, for reading the audit log's worker ids.</summary>
    public string StorePath => Path.Combine(_directory.FullName, "r2ps.db");

    public string WorkerOutput() => string.Join(Environment.NewLine, _workers.Select(w => $"--- {w.Id} ---{Environment.NewLine}{w.Output}"));

    public async ValueTask DisposeAsync()
    {
        if (_bff is not null)
            await _bff.DisposeAsync();
        await Task.WhenAll(_workers.Select(w => w.DisposeAsync().AsTask()));
        if (Node is not null)
            await Node.DisposeAsync();
        try
        {
            _directory.Delete(recursive: true);
        }
        catch (IOException)
        {
            // A file still held by a dying process; the temporary folder is cleaned eventually.
        }
    }
}

/// <summary>The wallet over HTTP → BFF → RabbitMQ → two worker processes; and a broker outage seen from the wallet.</summary>
[Collection(BffClusterDefinition.Name)]
public sealed class BffOverRabbitMqTests(BffCluster cluster)
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    async Task<(R2psWallet Wallet, HttpR2psTransport Transport)> RegisteredWalletAsync(HttpClient http, string pin)
    {
        var device = EmbeddedBff.NewDevice();
        var registered = await new R2psAdminClient(http, BffCluster.AdminToken).RegisterAsync(device.ClientId, device.Kid, device.PublicKey, ["hsm"], Ct);
        Assert.Equal(cluster.ServerKey.ToSpki(), Base64Std.Decode(registered.ServerPublicKey));
        var transport = new HttpR2psTransport(http, device, cluster.BffKey);
        var wallet = new R2psWallet(device, cluster.ServerKey, transport);
        await wallet.RegisterPinAsync(pin, registered.Authorization, Ct);
        return (wallet, transport);
    }

    [Fact]
    public async Task The_whole_flow_over_http_through_the_bff_and_two_worker_processes()
    {
        using var http = cluster.CreateClient();
        var (wallet, transport) = await RegisteredWalletAsync(http, "864200");
        using var _ = transport;
        using var session = await wallet.LoginAsync("864200", task: "general", cancellationToken: Ct);

        foreach (var curve in EcCurve.All)
            Assert.Equal(curve.Name, await session.GenerateKeyAsync(curve, Ct));
        var keys = await session.ListKeysAsync(cancellationToken: Ct);
        Assert.Equal(3, keys.Count);
        foreach (var key in keys)
        {
            var curve = EcCurve.FromName(key.CurveName);
            var publicKey = EcPublicKey.FromSpki(Base64Std.Decode(key.PublicKey));
            var hash = SHA512.HashData("over the broker"u8)[..Math.Min(64, curve.FieldSize)];
            var der = await session.SignAsync(key.Kid, hash, Ct);
            using (var verifier = ECDsa.Create(publicKey.ToDotNet()))
                Assert.True(verifier.VerifyHash(hash, der, DSASignatureFormat.Rfc3279DerSequence));
            using var peer = ECDiffieHellman.Create(curve.DotNetCurve);
            using var ours = ECDiffieHellman.Create(publicKey.ToDotNet());
            Assert.Equal(peer.DeriveRawSecretAgreement(ours.PublicKey), await session.EcdhAsync(key.Kid, peer.PublicKey.ExportSubjectPublicKeyInfo(), Ct));
            await session.DeleteKeyAsync(key.Kid, Ct);
        }

        Assert.Empty(await session.ListKeysAsync(cancellationToken: Ct));
        await session.CloseAsync(Ct);
        var closed = await Assert.ThrowsAsync<R2psClientException>(() => session.ListKeysAsync(cancellationToken: Ct));
        Assert.Equal(ErrorCode.AccessDenied, closed.Code);

        using var ready = await http.GetAsync(new Uri("health/ready", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    [Fact]
    public async Task A_secret_put_in_one_session_is_read_back_in_another_through_the_bff_on_the_other_worker()
    {
        try
        {
            await SecretRoundTripAsync();
        }
        catch (R2psClientException e)
        {
            Assert.Fail($"{e.Code}: {e.Message}{Environment.NewLine}{cluster.WorkerOutput()}");
        }
    }

    /// <summary>
    /// The logins and the close of the vault round trip, retried on SERVICE_UNAVAILABLE as a wallet would ("retry later"):
    /// on fresh-clone CI runs a saga command of this sequence twice outlasted its timeout (cause not found; see the
    /// closing note of 2026-12-04), and the saga's latency is not what this test is about.
    /// </summary>
    static async Task<T> RetriedOn503<T>(Func<Task<T>> step)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await step();
            }
            catch (R2psClientException e) when (e.Code == ErrorCode.ServiceUnavailable && attempt < 3)
            {
                // Retry later.
            }
        }
    }

    async Task SecretRoundTripAsync()
    {
        using var http = cluster.CreateClient();
        var (wallet, transport) = await RegisteredWalletAsync(http, "192837");
        using var _ = transport;
        using (var first = await RetriedOn503(() => wallet.LoginAsync("192837", cancellationToken: Ct)))
        {
            Assert.Equal(1, await first.Vault.PutAsync("bff.secret", "over http, the broker and the HSM"u8.ToArray(), Ct));
            var closeAttempts = 0;
            await RetriedOn503(async () =>
            {
                closeAttempts++;
                try
                {
                    await first.CloseAsync(Ct);
                }
                catch (R2psClientException e) when (e.Code == ErrorCode.AccessDenied && closeAttempts > 1)
                {
                    // A retried close whose first attempt did end the session: closed is what was asked.
                }
                return true;
            });
        }
        var storedBy = Workers(wallet.Device.ClientId, ServiceTypes.SecretStore).Single();

        // A new wallet object (nothing remembered) and a new login session; retried reads until the other worker serves one.
        var again = new R2psWallet(wallet.Device, cluster.ServerKey, transport);
        using var second = await RetriedOn503(() => again.LoginAsync("192837", cancellationToken: Ct));
        // RabbitMQ hands competing consumers messages in turn, but a busy worker can take several in a row: up to 20 reads.
        for (var attempt = 0; attempt < 20 && !Workers(wallet.Device.ClientId, ServiceTypes.SecretRetrieve).Any(w => w != storedBy); attempt++)
        {
            using var secret = await second.Vault.GetAsync("bff.secret", Ct);
            Assert.Equal(("over http, the broker and the HSM", 1L), (System.Text.Encoding.UTF8.GetString(secret.Plaintext), secret.Version));
        }
        Assert.Contains(Workers(wallet.Device.ClientId, ServiceTypes.SecretRetrieve), w => w != storedBy);

        var trail = await second.Vault.AuditAsync(cancellationToken: Ct);
        Assert.Equal(ServiceTypes.SecretRetrieve, trail[0].Type);
        Assert.Contains(trail, e => e.Type == ServiceTypes.SecretStore && e.Outcome == "OK");
        var status = await new R2psAdminClient(http, BffCluster.AdminToken).GetStatusAsync(wallet.Device.ClientId, wallet.Device.Kid, Ct);
        Assert.Equal(1, status.SecretCount);
    }

    /// <summary>The worker ids of the client's audited requests of <paramref name="type"/>, oldest first.</summary>
    List<string> Workers(string clientId, string type)
    {
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={cluster.StorePath};Mode=ReadOnly");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT worker_id FROM r2ps_audit WHERE client_id = $c AND request_type = $t ORDER BY id";
        command.Parameters.AddWithValue("$c", clientId);
        command.Parameters.AddWithValue("$t", type);
        using var reader = command.ExecuteReader();
        var workers = new List<string>();
        while (reader.Read())
            workers.Add(reader.GetString(0));
        return workers;
    }

    [Fact]
    public async Task With_the_broker_down_the_wallet_gets_503_and_service_resumes_when_it_is_back()
    {
        using var http = cluster.CreateClient();
        var (wallet, transport) = await RegisteredWalletAsync(http, "101010");
        using var _ = transport;
        using var session = await wallet.LoginAsync("101010", cancellationToken: Ct);
        Assert.Empty(await session.ListKeysAsync(cancellationToken: Ct));

        await cluster.Node.StopBrokerAsync(Ct);
        try
        {
            var clock = Stopwatch.StartNew();
            var down = await Assert.ThrowsAsync<R2psClientException>(() => session.ListKeysAsync(cancellationToken: Ct));
            Assert.Equal(ErrorCode.ServiceUnavailable, down.Code);
            Assert.Equal(503, down.HttpStatus);
            // An answer, not a hang: the client's timeout plus grace, with room for a loaded machine.
            Assert.True(clock.Elapsed < BffCluster.RequestTimeout + TimeSpan.FromSeconds(20), $"Answered after {clock.Elapsed.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture)} s.");

            using var ready = await http.GetAsync(new Uri("health/ready", UriKind.Relative), Ct);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        }
        finally
        {
            await cluster.Node.StartBrokerAsync(Ct);
        }

        var recovery = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                Assert.Empty(await session.ListKeysAsync(cancellationToken: Ct));
                break;
            }
            catch (R2psClientException e) when (e.Code == ErrorCode.ServiceUnavailable)
            {
                if (recovery.Elapsed > TimeSpan.FromSeconds(60))
                    Assert.Fail($"No recovery within 60 s.{Environment.NewLine}{cluster.WorkerOutput()}");
                await Task.Delay(250, Ct);
            }
        }

        // Every endpoint of both workers back, the saga's included (each reconnects on its own), before the next test.
        await cluster.WarmUpAsync(http);

        Assert.Equal(1, transport.SessionsEstablished);
    }
}
