using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using R2ps.Crypto.Ec;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Keys;
using R2ps.Wallet;
using R2ps.Wallet.Http;
using R2ps.Worker.Hosting;

namespace R2ps.Bff.Tests;

[CollectionDefinition(Name)]
public sealed class EmbeddedBffDefinition : ICollectionFixture<EmbeddedBff>
{
    public const string Name = "BFF and worker in one process on the in-memory bus";
}

/// <summary>
/// The BFF and the whole worker (store, HSM, saga) in this process on MassTransit's in-memory transport, as
/// <c>r2ps serve all</c> runs them (worker registered first), the BFF on a loopback port; plus a second, bare BFF without
/// workers, without an admin token and with the plain route disabled.
/// </summary>
public sealed class EmbeddedBff : IAsyncLifetime
{
    public const string AdminToken = "embedded-admin-token-0123456789";
    public const string Context = "hsm";

    readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("r2ps-bff-embedded-");
    BffHost? _host;
    BffHost? _bare;

    public Uri Address => (_host ?? throw new InvalidOperationException("Not started.")).Address;

    public Uri BareAddress => (_bare ?? throw new InvalidOperationException("Not started.")).Address;

    public string BffDatabase => Path.Combine(_directory.FullName, "bff.db");

    public EcPublicKey BffKey { get; private set; } = null!;

    public EcPublicKey ServerKey { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        var token = TestHsm.Token("r2ps-embedded");
        _host = await BffHost.StartAsync(EmbeddedSettings.For(token, _directory.FullName, "embedded", hsmSessions: 4, AdminToken),
            (services, configuration) => services.AddR2psWorker(configuration));

        // A token of its own: one process opens a token once (HsmConnection refuses a second connection).
        var bareToken = TestHsm.Token("r2ps-bare");
        _bare = await BffHost.StartAsync(new Dictionary<string, string?>
        {
            ["Messaging:Transport"] = "inmemory",
            ["Messaging:RequestTimeout"] = "00:00:01",
            ["Hsm:ModulePath"] = bareToken.ModulePath,
            ["Hsm:TokenLabel"] = bareToken.Label,
            ["Hsm:UserPin"] = TestHsm.UserPin,
            ["Hsm:SessionPoolSize"] = "1",
            ["Bff:ConnectionString"] = $"Data Source={Path.Combine(_directory.FullName, "bare-bff.db")}",
            ["Bff:PlainR2psEnabled"] = "false",
            ["Bff:ReadinessTimeout"] = "00:00:00.500",
        });

        using var http = CreateClient();
        var keys = await HttpR2psTransport.GetKeysAsync(http);
        BffKey = keys.BffKey;
        ServerKey = keys.ServerKeys[Context];
    }

    public HttpClient CreateClient() => _host!.CreateClient();

    /// <summary>The services of the BFF + worker host (tests observe its bus).</summary>
    public IServiceProvider Services => _host!.Services;

    /// <summary>The worker's store (SQLite file).</summary>
    public string StoreDatabase => Path.Combine(_directory.FullName, "r2ps.db");

    public HttpClient CreateBareClient() => _bare!.CreateClient();

    public R2psAdminClient Admin(HttpClient http) => new(http, AdminToken);

    /// <summary>A new device (P-256 key, kid = base64 of its compressed point, as reference clients name it).</summary>
    public static R2psDevice NewDevice()
    {
        var key = SoftwareEcKey.Generate(EcCurve.P256);
        return new R2psDevice("wallet-" + Guid.NewGuid().ToString("N"), Base64Std.Encode(key.PublicKey.ToCompressed()), key);
    }

    /// <summary>A device registered through the admin API with its PIN set through the BFF; the wallet and its transport.</summary>
    public async Task<(R2psWallet Wallet, HttpR2psTransport Transport)> RegisteredWalletAsync(HttpClient http, string pin, CancellationToken cancellationToken)
    {
        var device = NewDevice();
        var registered = await Admin(http).RegisterAsync(device.ClientId, device.Kid, device.PublicKey, [Context], cancellationToken);
        var transport = new HttpR2psTransport(http, device, BffKey);
        var wallet = new R2psWallet(device, ServerKey, transport);
        await wallet.RegisterPinAsync(pin, registered.Authorization, cancellationToken);
        return (wallet, transport);
    }

    /// <summary>Moves a device session's expiry into the past, as time would.</summary>
    public async Task ExpireDeviceSessionAsync(string sessionId)
    {
        await using var connection = new SqliteConnection($"Data Source={BffDatabase}");
        await connection.OpenAsync();
        var command = connection.CreateCommand();
        command.CommandText = "UPDATE bff_device_sessions SET expires_ms = 0 WHERE session_id = $id";
        command.Parameters.AddWithValue("$id", sessionId);
        Assert.Equal(1, await command.ExecuteNonQueryAsync());
        // The BFFs keep a session they served until its expiry; this one's expiry is now.
        foreach (var host in new[] { _host, _bare })
            host?.Services.GetService<R2ps.Bff.Sessions.DeviceSessionStore>()?.Forget(sessionId);
    }

    public async ValueTask DisposeAsync()
    {
        if (_bare is not null)
            await _bare.DisposeAsync();
        if (_host is not null)
            await _host.DisposeAsync();
        SqliteConnection.ClearAllPools();
        try
        {
            _directory.Delete(recursive: true);
        }
        catch (IOException)
        {
            // A file still held; the temporary folder is cleaned eventually.
        }
    }

    internal static string Iso(DateTimeOffset time) => time.ToString("O", CultureInfo.InvariantCulture);
}
